// Package kinesistest starts a real shardlog server inside a Go test, in
// the spirit of net/http/httptest: a loopback port, a temporary data
// directory, no state delays (streams are ACTIVE as soon as they are
// created), and an aws.Config ready for the AWS SDK for Go v2.
//
//	func TestOrders(t *testing.T) {
//		srv := kinesistest.New(t, kinesistest.WithStreams("orders"))
//		client := kinesis.NewFromConfig(srv.Config)
//		// ... exercise the code under test with client ...
//	}
//
// New registers the shutdown with t.Cleanup; Start and Close do the same
// outside a test. Each server is independent: it shares no state with
// other servers in the process, so parallel tests may each start their
// own. Options create streams up front (WithStreams, WithStream), turn
// SigV4 authentication on (WithAuth), turn the limits emulator on
// (WithThroughputLimits, WithLimits) or choose the fsync policy
// (WithFsync).
//
// The server is the one the shardlog daemon runs, with the same API and
// storage; only the listener, the data directory and the credentials are
// chosen for a test. It serves cleartext HTTP/1.1 and HTTP/2 (h2c) on
// 127.0.0.1, so SubscribeToShard works with an HTTP/2 client.
package kinesistest
