// Package sdkhttp adapts the HTTP client of an AWS SDK for Go v2 client
// so that a fast server's answers are not lost on the way back.
//
// The SDK (smithy-go) closes a request's body as soon as the response
// headers arrive. net/http may still hold that body then: it writes a
// body straight to the socket once its headers are flushed, and after the
// last byte it reads the body once more to check that nothing is left.
// When the answer comes back before that check, the closed body reports
// io.EOF from WriteTo, net/http takes it for a failed write and closes
// the connection under the response being read. The call fails with
// "use of closed network connection" on a 200 answer, and the SDK's
// retry applies a PutRecords the server already applied a second time.
// Against shardlog on loopback the answer is often that fast: in three
// runs of TestReshardUnderLoad under the race detector, net/http found
// the body closed 151 times, and 6 answers were cut off while being read.
// A GetRecords of a large page, whose answer takes longest to read, is the
// likeliest to lose it: in CI one failed all three of its attempts.
//
// DetachBodies hands net/http a copy of each body that nobody closes
// early; shardlog's CLI, kinesistest and the end-to-end tests use it.
//
// It is a client-side package: it imports no other shardlog package.
package sdkhttp
