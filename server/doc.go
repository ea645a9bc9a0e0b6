// Package server speaks the Amazon Kinesis Data Streams wire protocol on top
// of a shard.Store: it decodes requests, validates them with AWS's messages,
// runs them against the store and encodes responses and errors as AWS does,
// so that unmodified AWS SDKs and the AWS CLI work against it with nothing
// but an endpoint URL.
//
// # Transports
//
// Serve takes a listener owned by the caller and serves two protocols on it.
// Each accepted connection is sniffed (its first bytes read under
// Options.ReadTimeout, in its own goroutine): a connection that opens with
// the HTTP/2 client preface ("PRI * HTTP/2.0...", h2c with prior knowledge,
// as the AWS SDK for JavaScript v3 and the Java async client send to http://
// endpoints) is served by net/http's HTTP/2 server; everything else by
// fasthttp as HTTP/1.1. Both adapters build an exchange and call the same
// protocol-neutral dispatch; neither knows any operation.
//
// # Operations
//
// One table maps X-Amz-Target ("Kinesis_20131202.PutRecords") to an
// operation. Each operation lives in its own file (putrecords.go,
// getrecords.go, ...); operations.go lists them all in one literal table,
// each with its IAM action, its body class and its handler, adapted by the
// generic
//
//	handler[In, Out](func(s *Server, in *In) (*Out, error))
//
// In and Out are plain structs whose field names are the Kinesis member
// names; a codec (JSON 1.1 in codec.go, CBOR 1.1 in cbor.go, chosen by
// Content-Type) decodes In and encodes Out.
// Hot-path responses implement jsonAppender to encode without reflection;
// request structs are pooled per operation.
//
// The front-end checks run in AWS's order: method, Content-Type, empty
// body, operation name (UnknownOperationException), body syntax and types
// (SerializationException), then the operation: member constraints first
// (ValidationException, built with validator in AWS's words and field
// order), resources after (ResourceNotFoundException, ...).
//
// # Subscriptions
//
// SubscribeToShard is the one operation outside the table: both adapters
// route it to a streaming path (subscribetoshard.go) whose response is an
// application/vnd.amazon.eventstream body framed by the SDK's eventstream
// encoder (eventstream.go): initial-response first, then one
// SubscribeToShardEvent whenever the shard's tail notification fires, a
// heartbeat event while idle, ChildShards at the end of a closed shard.
// Over HTTP/1.1 it is a chunked fasthttp body stream, over HTTP/2 a
// flushed net/http response. Subscriptions end after
// Options.SubscriptionLifetime, on takeover, on deregistration and on
// Shutdown. With Limits.Throughput on, each subscription pushes at most
// Limits.ReadBytesPerSecond (AWS's 2 MiB/s per consumer-shard) from a
// budget of its own (subscribelimit.go).
//
// # Transports
//
// One listener serves every transport (listener.go): cleartext connections
// opening with the HTTP/2 preface go to net/http (h2c), the rest to
// fasthttp. With Options.TLS, TLS is terminated on accept instead and ALPN
// decides: h2 to net/http, http/1.1 (or no ALPN) to fasthttp (tls.go).
//
// # Errors
//
// errors.go holds the only table of error types and their HTTP status, the
// APIError type and toAPIError, which maps shard's sentinel errors to
// Kinesis types. Any other error becomes InternalFailure (status 500),
// logged at error level with its chain; the client never sees a Go error or
// a file path. Error bodies are {"__type": "...", "message": "..."}
// ("Message" for SerializationException, as AWS writes it), in the
// request's codec whenever its Content-Type names one, even for errors
// found before the operation is known. Operations without output answer
// an empty body. The API port serves CORS (cors.go); the admin listener
// does not.
//
// # Shard iterators
//
// Iterators are opaque tokens carrying the stream name, shard id, the
// shard's creation time, a position and the time they were issued, sealed
// with AES-256-GCM under a key derived from the store's secret (seal.go).
// They survive restarts, cannot be read, forged or pointed at another shard
// or stream, and expire after Options.IteratorTTL. The NextTokens of
// ListShards, ListStreamConsumers and ListStreams are sealed the same way
// under keys of their own; a request carrying an iterator or a NextToken
// that names a stream is authorized on that stream (auth.go).
//
// # Memory
//
// GetRecords encodes records straight from the mapped segments and releases
// its segment references only after the response is fully encoded into a
// pooled buffer; no record outlives the mapping it aliases.
//
// # Not here
//
// Listeners, TLS and configuration belong to cmd/shardlog; storage,
// routing by hash key and the sequence-number codec to shard.
package server
