// Package wire is the Kinesis wire format, with no knowledge of streams or
// storage: what a request and a response look like on the wire, and what
// the AWS front end answers when they look wrong.
//
// It owns:
//
//   - the codecs (codec.go, cbor.go): AWS JSON 1.1 and CBOR 1.1 over the
//     same request and response structs, chosen by Content-Type
//     (RequestCodec), with the hot-path interfaces JSONAppender,
//     JSONDecoder, CBORAppender and CBORDecoder, and EpochTime for
//     timestamps;
//   - the streamed response bodies (stream.go): Stream, which encodes a
//     large answer a chunk at a time while it is written, and Gate;
//   - the errors (errors.go): every error type ("__type") with its HTTP
//     status in one table (ErrorStatus), and APIError, the error the client
//     sees;
//   - request validation in AWS's words and order (validate.go, Validator)
//     and the patterns of the service model;
//   - the event-stream framing of SubscribeToShard (eventstream.go,
//     EventWriter);
//   - sealed tokens (seal.go, Tokens, Sealer): shard iterators
//     (iterator.go, Iterator) and NextTokens, encrypted and authenticated
//     under keys derived from a secret;
//   - pooled response buffers (buffer.go).
//
// It imports no other shardlog package, so that it can be tested and
// fuzzed alone: what a request means (a stream, a shard, a position) is
// the operations' business, in server/ops.
//
// Everything here is safe for concurrent use; package-level variables are
// tables built once and never written, sentinel errors and pools.
package wire
