package shard

import (
	"time"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/segment"
)

// FsyncPolicy says when appended records are forced to stable storage. Every
// policy survives kill -9: an acknowledged record is already in the shared
// mapping, hence in the page cache.
type FsyncPolicy string

// Fsync policies.
const (
	// FsyncAlways acknowledges an append after a group-commit sync that all
	// appends in flight on the shard share; it survives power loss.
	FsyncAlways FsyncPolicy = "always"
	// FsyncInterval syncs every shard in the background every FsyncInterval;
	// a power loss loses at most that much.
	FsyncInterval FsyncPolicy = "interval"
	// FsyncNever leaves syncing to the kernel (and to segment rolls).
	FsyncNever FsyncPolicy = "never"
)

// Options configures a Store. Zero fields take the defaults of DefaultOptions.
type Options struct {
	// Dir is the data directory; it is created when missing.
	Dir string
	// Segment configures the segment files of every shard.
	Segment segment.Options
	// MaxSegmentAge rolls an active segment whose first record is older than
	// this, so that idle data can expire (default 1h).
	MaxSegmentAge time.Duration
	// RetentionFloor is how long records of a stream at AWS's minimum
	// retention period (24 h, where every stream starts) are kept (default
	// 24h). A local setup may lower it, e.g. to 1m, to watch expiry happen;
	// the stream still reports 24 hours, as AWS would, and a stream given a
	// longer period keeps records for that period.
	RetentionFloor time.Duration
	// ExpireInterval is how often the store expires segments past retention
	// (Store.Expire) and then compresses sealed ones (Store.Compress)
	// (default 30s).
	ExpireInterval time.Duration
	// MaxLoadedShards bounds the shards whose segments are open (mapped) at
	// once; past it the least recently used are made dormant again, as
	// after a restart (default 4096). Each loaded shard holds two mappings
	// per segment, and the kernel limits a process to vm.max_map_count
	// (65,530 by default).
	MaxLoadedShards int
	// IdleShardTimeout makes a shard that is neither written nor read for
	// that long dormant again, so idle shards hold no mapping (default 1m).
	IdleShardTimeout time.Duration
	// MaxQueuedBytes bounds the bytes (data plus partition keys) of
	// appends waiting for or running on one shard: an append that would
	// pass it fails at once with ErrBusy, unless it is the only one, so a
	// shard under more load than it can take answers fast instead of
	// queueing every request behind the others. Zero (the default) sets no
	// bound.
	MaxQueuedBytes int64
	// Fsync is the durability policy (default FsyncInterval).
	Fsync FsyncPolicy
	// FsyncInterval is the sync period under FsyncInterval (default 1s).
	FsyncInterval time.Duration
	// Region and AccountID appear in stream ARNs (defaults us-east-1 and
	// 000000000000).
	Region    string
	AccountID string
	// CreateDelay, DeleteDelay and UpdateDelay keep a stream CREATING,
	// DELETING or UPDATING for that long (default 0: transitions are instant).
	CreateDelay time.Duration
	DeleteDelay time.Duration
	UpdateDelay time.Duration
	// LazyFirstSegments leaves the first segment of a new shard to its
	// first append, which then creates it (about 1 ms), instead of having
	// it created in the background after CreateStream or a reshard (see
	// preparer). Tests that count a shard's files set it.
	LazyFirstSegments bool
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
	// Logger receives store, recovery, expiry and compression events; the zero Logger
	// discards them.
	Logger zerolog.Logger
}

// DefaultRetention is the retention period of a new stream.
const DefaultRetention = 24 * time.Hour

// MaxRetention is the largest retention period Kinesis allows (8760 h).
const MaxRetention = 8760 * time.Hour

// DefaultOptions returns the defaults documented on Options, with dir as the
// data directory.
func DefaultOptions(dir string) Options {
	return Options{
		Dir:              dir,
		Segment:          segment.DefaultOptions(),
		MaxSegmentAge:    time.Hour,
		RetentionFloor:   DefaultRetention,
		ExpireInterval:   30 * time.Second,
		MaxLoadedShards:  4096,
		IdleShardTimeout: time.Minute,
		Fsync:            FsyncInterval,
		FsyncInterval:    time.Second,
		Region:           "us-east-1",
		AccountID:        "000000000000",
		Now:              time.Now,
		Logger:           zerolog.Nop(),
	}
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	d := DefaultOptions(o.Dir)
	if o.Segment.MaxSegmentBytes == 0 {
		o.Segment.MaxSegmentBytes = d.Segment.MaxSegmentBytes
	}
	if o.Segment.IndexIntervalBytes == 0 {
		o.Segment.IndexIntervalBytes = d.Segment.IndexIntervalBytes
	}
	if o.MaxSegmentAge == 0 {
		o.MaxSegmentAge = d.MaxSegmentAge
	}
	if o.RetentionFloor == 0 {
		o.RetentionFloor = d.RetentionFloor
	}
	if o.ExpireInterval == 0 {
		o.ExpireInterval = d.ExpireInterval
	}
	if o.MaxLoadedShards <= 0 {
		o.MaxLoadedShards = d.MaxLoadedShards
	}
	if o.IdleShardTimeout <= 0 {
		o.IdleShardTimeout = d.IdleShardTimeout
	}
	if o.Fsync == "" {
		o.Fsync = d.Fsync
	}
	if o.FsyncInterval == 0 {
		o.FsyncInterval = d.FsyncInterval
	}
	if o.Region == "" {
		o.Region = d.Region
	}
	if o.AccountID == "" {
		o.AccountID = d.AccountID
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Segment.Now == nil {
		o.Segment.Now = o.Now // segment headers record creation on the store's clock
	}
	return o
}

// fault calls the segment fault injector, which the store shares, before
// one of the store's own durable steps: "mkdir", "meta-write",
// "meta-fsync", "meta-rename", "meta-dirsync", "stream-rename",
// "stream-dirsync", "delete-rename" and "delete-dirsync".
func (o *Options) fault(op string) error {
	if o.Segment.Faults == nil {
		return nil
	}
	return o.Segment.Faults.Fault(op)
}

// storedRetention is how long records are kept under the retention period
// d: d, or RetentionFloor for the minimum period when the floor is lower.
func (o Options) storedRetention(d time.Duration) time.Duration {
	if d <= DefaultRetention && o.RetentionFloor < d {
		return o.RetentionFloor
	}
	return d
}
