// Package server speaks the Amazon Kinesis Data Streams wire protocol on top
// of a shard.Store, so that unmodified AWS SDKs and the AWS CLI work against
// it with nothing but an endpoint URL. This package is the host: Options in,
// listeners, routing of a request to an operation, shutdown. The work is
// done by its sub-packages, each with one job:
//
//	server/ops       the 45 Kinesis operations, listed in one literal table
//	server/wire      JSON and CBOR codecs, the error table, validation,
//	                 event-stream framing, sealed iterators and NextTokens
//	server/sigv4     Signature Version 4 verification, credential shapes
//	server/policy    IAM policies and their conditions
//	server/limits    the limits emulator's token buckets
//	server/metrics   the metric registry behind /metrics
//	server/listener  h2c sniffing, TLS with ALPN, accept backoff, standby
//	server/console   the web console
//
// Imports point one way: the host imports the leaves; ops imports wire,
// sigv4, policy, limits and metrics; sigv4 imports wire and policy;
// listener imports wire; wire imports no other shardlog package.
//
// # Requests
//
// Serve takes a listener owned by the caller; a listener.Split hands each
// connection to server/h2 (HTTP/2: h2c with prior knowledge, or h2 by ALPN
// under Options.TLS) or to fasthttp (HTTP/1.1). Both adapters build an
// exchange and call the same protocol-neutral handle (dispatch.go), which
// runs the front end's checks in AWS's order: method, Content-Type, empty
// body, operation name (UnknownOperationException), credentials (what the
// headers tell, before the body is read: sigv4.CheckHeaders, or
// sigv4.CheckShape under AuthNone), the body (body.go: under the
// operation's limit and the in-flight budget), the signature over it, and
// then the operation (ops.Operation.Call: decoding, authorization,
// validation, resources). Errors are answered in the request's codec
// whenever its Content-Type names one; an error the operations did not
// expect is an InternalFailure, logged with its chain. A panic in an
// operation answers InternalFailure and is counted; the daemon goes on.
//
// SubscribeToShard is routed before the table (subscribe.go): its response
// is an application/vnd.amazon.eventstream body, one flushed chunk per
// message over HTTP/1.1 and flushed message by message over HTTP/2, pumped
// by ops.Service.Pump.
//
// The API port also answers CORS preflights (cors.go), the health
// endpoints and, as adminOnAPI allows, /metrics and the console
// (health.go); ServeAdmin serves the operator endpoints on a listener of
// their own, without signature or policy checks (admin.go).
//
// # State
//
// A Server holds its own operation map, ops.Service, metric registry and
// access keys: two servers in one process share nothing but what they are
// given. SetLimits and SetAuth change the limits emulator and access control
// live (SIGHUP). A Server does not own the Store: close it after Shutdown.
//
// # Not here
//
// Configuration files, flags and signals belong to cmd/shardlog; storage,
// routing by hash key and the sequence-number codec to shard.
package server
