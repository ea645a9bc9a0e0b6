// Package metrics holds a server's metrics, served at GET /metrics in the
// Prometheus text format: per stream under CloudWatch's Kinesis names,
// per shard for the shards of streams with enhanced monitoring, and the
// daemon's own counters (see metrics.go for the list).
//
// A Registry belongs to one server, so servers in one process never share
// a metric; the operations report what happened through its Observe
// methods, which on the hot path do one map load and add to counters
// resolved when the stream was first seen. It knows streams and shards
// (package shard) and nothing of the wire format, the operations or the
// host.
package metrics
