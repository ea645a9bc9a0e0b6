package server

import (
	"github.com/shardlog/shardlog/server/limits"
)

// Limits configures the limits emulator (package limits): throughput
// limits, error injection and account limits. The zero value emulates
// nothing.
type Limits = limits.Limits

// AWS's per-shard throughput limits, the defaults of the emulator's rates.
const (
	AWSWriteBytesPerSecond   = limits.AWSWriteBytesPerSecond
	AWSWriteRecordsPerSecond = limits.AWSWriteRecordsPerSecond
	AWSReadBytesPerSecond    = limits.AWSReadBytesPerSecond
	AWSReadCallsPerSecond    = limits.AWSReadCallsPerSecond
)

// SetLimits replaces the limits emulator's settings; requests that start
// after it returns see them. Shards keep the allowance they have. Safe for
// concurrent use (the daemon calls it on SIGHUP).
func (s *Server) SetLimits(l Limits) { s.svc.SetLimits(l) }

// Limits returns the limits in force. Safe for concurrent use.
func (s *Server) Limits() Limits { return s.svc.Limits() }
