package kinesistest

import (
	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// Option configures a server started by New or Start.
type Option func(*settings)

// settings is what the options chose.
type settings struct {
	dir       string
	removeDir bool // Close removes dir (Start made it)
	logger    zerolog.Logger
	streams   []streamSpec
	keys      []Key
	limits    server.Limits
	fsync     shard.FsyncPolicy
}

// streamSpec is a stream to create up front; shards 0 means ON_DEMAND.
type streamSpec struct {
	name   string
	shards int
}

// Key is an access key accepted by a server started WithAuth. It may call
// every operation on every stream.
type Key struct {
	AccessKeyID     string
	SecretAccessKey string
}

// WithStreams creates the named streams, one shard each, before New or
// Start returns; they are ACTIVE by then.
func WithStreams(names ...string) Option {
	return func(s *settings) {
		for _, n := range names {
			s.streams = append(s.streams, streamSpec{name: n, shards: 1})
		}
	}
}

// WithStream creates the stream name with the given number of shards before
// New or Start returns (ACTIVE by then); shards 0 creates it in ON_DEMAND
// mode (four shards).
func WithStream(name string, shards int) Option {
	return func(s *settings) { s.streams = append(s.streams, streamSpec{name: name, shards: shards}) }
}

// WithAuth turns SigV4 authentication on: requests must be signed with one
// of keys. Config signs with the first. Without it the server verifies no
// signature (it still requires an AWS-shaped one, as AWS does, which
// Config provides).
func WithAuth(keys ...Key) Option {
	return func(s *settings) { s.keys = append(s.keys, keys...) }
}

// WithThroughputLimits turns on the limits emulator's per-shard throughput
// limits at AWS's rates (1 MiB/s and 1000 records/s written, 2 MiB/s and 5
// GetRecords calls/s read, per shard), for testing a client's handling of
// ProvisionedThroughputExceededException.
func WithThroughputLimits() Option {
	return WithLimits(server.Limits{Throughput: true})
}

// WithLimits sets the limits emulator (throughput limits at chosen rates,
// error injection, account limits); see server.Limits. Server.SetLimits
// changes it while the server runs.
func WithLimits(l server.Limits) Option {
	return func(s *settings) { s.limits = l }
}

// WithFsync sets the store's durability policy (default shard.FsyncInterval).
// shard.FsyncNever is the fastest and loses nothing a test can observe.
func WithFsync(p shard.FsyncPolicy) Option {
	return func(s *settings) { s.fsync = p }
}
