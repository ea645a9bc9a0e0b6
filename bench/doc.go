// Package bench is shardlog's load generator. It measures any Kinesis Data
// Streams endpoint over HTTP (JSON 1.1), so the same run can measure shardlog,
// kinesalite, kinesis-mock and AWS. Requests are signed with AWS Signature
// Version 4 when Options.Credentials are set (the shardlog bench command
// takes them from AWS_ACCESS_KEY_ID and friends), and otherwise carry a
// well-formed SigV4 Authorization header with a dummy signature, which local
// servers require but do not verify (sign.go). It imports no shardlog
// package.
//
// # Workloads
//
//	put     PutRecords of Batch records of RecordBytes each, from Conns connections
//	putone  PutRecord of one record, from Conns connections
//	get     a put phase (not measured), then every shard drained from TRIM_HORIZON
//	        by one GetRecords poller per shard (measured)
//	e2e     a producer at a fixed Rate, one GetRecords poller per shard polling
//	        without sleep; latency is put-to-visible, from a timestamp in each record
//	efo     Consumers registered consumers, each on its own HTTP/2 connection (h2c,
//	        or TLS with ALPN h2), subscribed to every shard with SubscribeToShard;
//	        a producer at a fixed Rate; latency is put-to-push, from the timestamp
//	        in each record to its arrival in an event (efo.go)
//
// # Record layout
//
// Every record carries its identity and a checksum in a 24-byte header, then
// filler up to RecordBytes:
//
//	off  size  field
//	  0     8  id: producer worker << 48 | worker sequence (big endian)
//	  8     8  timestamp: Unix nanoseconds when the record was due to be sent
//	 16     4  checksum: CRC-32C(bytes 0..16 ++ bytes 20..24) XOR CRC-32C(filler)
//	 20     1  flags: bit 0 set when the record was resent after a throttle
//	 21     1  filler variant (index into the run's pre-built fillers)
//	 22     2  magic "SB"
//	 24     n  filler: random bytes, one of a few variants per run
//
// Because 24 is a multiple of 3, the base64 text of the header is exactly the
// first 32 characters of the record's Data, so producers patch 32 characters
// of a pre-encoded request body per record and never re-encode the filler.
// Readers compare the filler's base64 text with the variant's and fall back to
// decoding and checksumming when it differs, so corruption anywhere is found.
//
// # Correctness
//
// Workloads that read (get, e2e, efo; efo per consumer) account for every record: missing (acknowledged
// but never read), duplicate, corrupt (bad checksum, size or magic) and
// out-of-order (a record read after a later record of the same producer worker
// in the same shard; resent records are exempt). Result.OK is false on any.
//
// # Concurrency
//
// Run is safe to call from one goroutine at a time per Options; it starts and
// stops its own goroutines and every run stops by itself (Duration, Records or
// the context). It refuses endpoints that are not loopback unless AllowRemote.
package bench
