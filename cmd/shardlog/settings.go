package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// accountIDRe is the shape of an AWS account id.
var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

// regionRe is the shape of an AWS region name as it appears in ARNs.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// settings is every configuration key of the daemon, in the order of
// config.yaml: the one place that says what can be set, its default and
// what is valid. The storage, limits and iterator defaults are the
// packages' own; TestDefaultConfigFile keeps config.yaml equal to them.
//
// Checks run in this order on the merged configuration, so a check may
// read keys declared above it (index_interval_bytes reads segment_bytes).
func settings() []setting {
	so, vo := shard.DefaultOptions(""), server.DefaultOptions()
	return []setting{
		declare("listen", func(c *config) *string { return &c.Listen }, "127.0.0.1:4567",
			"host:port of the Kinesis API (0.0.0.0:4567 accepts other hosts)",
			hostPort("must be host:port, e.g. 127.0.0.1:4567")),
		declare("data_dir", func(c *config) *string { return &c.DataDir }, "./data",
			"directory holding every stream; created when missing",
			func(_ *config, v string) error {
				if v == "" {
					return invalid(v, "must be a directory path")
				}
				return nil
			}),
		declare("region", func(c *config) *string { return &c.Region }, so.Region,
			"region in stream ARNs", matches(regionRe, "must look like us-east-1")),
		declare("account_id", func(c *config) *string { return &c.AccountID }, so.AccountID,
			"12-digit account id in stream ARNs", matches(accountIDRe, "must be 12 digits")),

		liveOnReload(declare("log.level", func(c *config) *string { return &c.Log.Level }, "info",
			"trace, debug, info, warn, error or disabled",
			oneOf("trace", "debug", "info", "warn", "error", "disabled"))),
		declare("log.format", func(c *config) *string { return &c.Log.Format }, "json",
			"json (one object per line) or console (for people)", oneOf("json", "console")),

		// Any size holds every record the API accepts: a record larger than
		// a segment gets a segment of its own (package segment).
		declare("storage.segment_bytes", func(c *config) *int64 { return &c.Storage.SegmentBytes }, so.Segment.MaxSegmentBytes,
			"size of a segment file, bytes",
			between[int64](2<<20, 1<<40, "must be between 2097152 (2 MiB) and 1099511627776 (1 TiB)")),
		declare("storage.index_interval_bytes", func(c *config) *int { return &c.Storage.IndexIntervalBytes }, so.Segment.IndexIntervalBytes,
			"bytes of records between two sparse index entries",
			func(c *config, v int) error {
				if v < 64 || int64(v) > c.Storage.SegmentBytes {
					return invalid(v, "must be at least 64 and at most storage.segment_bytes")
				}
				return nil
			}),
		declare("storage.max_segment_age", func(c *config) *time.Duration { return &c.Storage.MaxSegmentAge }, so.MaxSegmentAge,
			"roll an active segment whose first record is this old", positive[time.Duration]()),
		declare("storage.compression", func(c *config) *string { return &c.Storage.Compression }, so.Segment.Compression.String(),
			"codec of sealed segments: none, zstd or s2", oneOf("none", "zstd", "s2")),
		declare("storage.fsync", func(c *config) *string { return &c.Storage.Fsync }, string(so.Fsync),
			"when records reach stable storage: always, interval or never",
			oneOf(string(shard.FsyncInterval), string(shard.FsyncAlways), string(shard.FsyncNever))),
		declare("storage.fsync_interval", func(c *config) *time.Duration { return &c.Storage.FsyncInterval }, so.FsyncInterval,
			"sync period under storage.fsync interval", positive[time.Duration]()),
		declare("storage.retention_floor", func(c *config) *time.Duration { return &c.Storage.RetentionFloor }, so.RetentionFloor,
			"how long a 24-hour stream keeps records",
			between(time.Second, shard.DefaultRetention, "must be between 1s and 24h")),
		declare("storage.expire_interval", func(c *config) *time.Duration { return &c.Storage.ExpireInterval }, so.ExpireInterval,
			"how often segments past their stream's retention are deleted", positive[time.Duration]()),
		declare("storage.max_loaded_shards", func(c *config) *int { return &c.Storage.MaxLoadedShards }, so.MaxLoadedShards,
			"shards whose segments stay open (mapped) at once; the least recently used past it are closed",
			between(1, 1<<20, "must be between 1 and 1048576")),
		declare("storage.idle_shard_timeout", func(c *config) *time.Duration { return &c.Storage.IdleShardTimeout }, so.IdleShardTimeout,
			"close the segments of a shard neither written nor read for this long", positive[time.Duration]()),

		declare("streams.create_delay", func(c *config) *time.Duration { return &c.Streams.CreateDelay }, so.CreateDelay,
			"time a stream spends CREATING", nonNegative[time.Duration]()),
		declare("streams.delete_delay", func(c *config) *time.Duration { return &c.Streams.DeleteDelay }, so.DeleteDelay,
			"time a stream spends DELETING", nonNegative[time.Duration]()),
		declare("streams.update_delay", func(c *config) *time.Duration { return &c.Streams.UpdateDelay }, so.UpdateDelay,
			"time a stream spends UPDATING", nonNegative[time.Duration]()),

		declare("limits.shard_limit", func(c *config) *int { return &c.Limits.ShardLimit }, vo.ShardLimit,
			"open shards in the account", atLeast(1)),
		declare("limits.on_demand_stream_limit", func(c *config) *int { return &c.Limits.OnDemandStreamLimit }, vo.OnDemandStreamLimit,
			"ON_DEMAND streams in the account", atLeast(1)),
		// PutRecords carries up to 10 MiB of data, base64-encoded in JSON.
		declare("limits.max_body_bytes", func(c *config) *int { return &c.Limits.MaxBodyBytes }, vo.MaxBodyBytes,
			"largest request body, bytes",
			func(_ *config, v int) error {
				if v < 1<<20 {
					return invalid(v, "must be at least 1048576 (1 MiB)")
				}
				return nil
			}),
		declare("limits.max_inflight_body_bytes", func(c *config) *int { return &c.Limits.MaxInflightBodies }, vo.MaxInflightBodyBytes,
			"request bodies read or held at once, bytes",
			func(c *config, v int) error {
				if v < c.Limits.MaxBodyBytes {
					return invalid(v, "must be at least limits.max_body_bytes ("+strconv.Itoa(c.Limits.MaxBodyBytes)+")")
				}
				return nil
			}),
		declare("limits.shard_queue_bytes", func(c *config) *int64 { return &c.Limits.ShardQueueBytes }, so.MaxQueuedBytes,
			"bytes of puts a shard queues before it answers ProvisionedThroughputExceededException; 0 unbounded",
			func(_ *config, v int64) error {
				if v < 0 {
					return invalid(v, "must not be negative (0: unbounded)")
				}
				return nil
			}),
		declare("limits.max_conns", func(c *config) *int { return &c.Limits.MaxConns }, vo.MaxConns,
			"connections served at once", atLeast(1)),
		declare("limits.read_timeout", func(c *config) *time.Duration { return &c.Limits.ReadTimeout }, vo.ReadTimeout,
			"time to read one request", positive[time.Duration]()),
		declare("limits.write_timeout", func(c *config) *time.Duration { return &c.Limits.WriteTimeout }, vo.WriteTimeout,
			"time to write one response", positive[time.Duration]()),
		declare("limits.idle_timeout", func(c *config) *time.Duration { return &c.Limits.IdleTimeout }, vo.IdleTimeout,
			"time a keep-alive connection may stay idle", positive[time.Duration]()),
		liveOnReload(declare("limits.consumers_per_stream", func(c *config) *int { return &c.Limits.ConsumersPerStream }, shard.MaxConsumers,
			"registered fan-out consumers per stream",
			between(1, shard.MaxConsumers, fmt.Sprintf("must be between 1 and %d", shard.MaxConsumers)))),
		liveOnReload(declare("limits.update_shard_count_per_day", func(c *config) *int { return &c.Limits.ScalingsPerDay }, 0,
			"UpdateShardCount calls per stream in a rolling day; 0 unlimited",
			func(_ *config, v int) error {
				if v < 0 {
					return invalid(v, "must not be negative (0: unlimited)")
				}
				return nil
			})),

		liveOnReload(declare("emulator.throughput", func(c *config) *bool { return &c.Emulator.Throughput }, false,
			"enforce AWS's per-shard rates below")),
		liveOnReload(declare("emulator.write_bytes_per_second", func(c *config) *int { return &c.Emulator.WriteBytesPerSecond }, server.AWSWriteBytesPerSecond,
			"per shard, data plus partition key", atLeast(1))),
		liveOnReload(declare("emulator.write_records_per_second", func(c *config) *int { return &c.Emulator.WriteRecordsPerSecond }, server.AWSWriteRecordsPerSecond,
			"per shard", atLeast(1))),
		liveOnReload(declare("emulator.read_bytes_per_second", func(c *config) *int { return &c.Emulator.ReadBytesPerSecond }, server.AWSReadBytesPerSecond,
			"per shard, and per subscription", atLeast(1))),
		liveOnReload(declare("emulator.read_calls_per_second", func(c *config) *int { return &c.Emulator.ReadCallsPerSecond }, server.AWSReadCallsPerSecond,
			"GetRecords calls per shard", atLeast(1))),
		liveOnReload(declare("emulator.error_probability", func(c *config) *float64 { return &c.Emulator.ErrorProbability }, 0,
			"chance (0 to 1) of an injected InternalFailure per request",
			between(0.0, 1.0, "must be between 0 and 1"))),

		declare("iterator_ttl", func(c *config) *time.Duration { return &c.IteratorTTL }, vo.IteratorTTL,
			"lifetime of a shard iterator", positive[time.Duration]()),
		declare("console", func(c *config) *bool { return &c.Console }, true,
			"serve the web console at /console"),

		declare("tls.cert_file", func(c *config) *string { return &c.TLS.CertFile }, "",
			"PEM certificate chain of the API port; empty serves cleartext",
			func(c *config, v string) error {
				if (v == "") != (c.TLS.KeyFile == "") {
					return invalid(v, "tls.cert_file and tls.key_file must be set together")
				}
				return nil
			}),
		declare("tls.key_file", func(c *config) *string { return &c.TLS.KeyFile }, "",
			"PEM private key of tls.cert_file"),

		liveOnReload(declare("auth.mode", func(c *config) *string { return &c.Auth.Mode }, string(server.AuthNone),
			"none (well-formed, unverified signatures) or sigv4",
			oneOf(string(server.AuthNone), string(server.AuthSigV4)))),
		liveOnReload(declare("auth.accept_unsigned", func(c *config) *bool { return &c.Auth.AcceptUnsigned }, false,
			"under auth.mode none, accept requests without a signature too (curl)",
			func(c *config, v bool) error {
				if v && c.Auth.Mode == string(server.AuthSigV4) {
					return invalid(v, "only applies to auth.mode none")
				}
				return nil
			})),
		liveOnReload(declare("auth.keys", func(c *config) *authKeys { return &c.Auth.Keys }, authKeys{},
			"access keys accepted under auth.mode sigv4, each with its IAM policy",
			func(c *config, v authKeys) error {
				if c.Auth.Mode == string(server.AuthSigV4) && len(v) == 0 {
					return invalid(v, "auth.mode sigv4 needs at least one key")
				}
				_, err := c.Auth.serverAuth()
				return err
			})),

		declare("admin.listen", func(c *config) *string { return &c.Admin.Listen }, "",
			`host:port of the admin listener; "" (the default per auth.mode) or off`,
			hostPort(`must be host:port (e.g. 127.0.0.1:4568), "" or off`, "", adminListenOff)),
		declare("admin.expose_on_api", func(c *config) *bool { return &c.Admin.ExposeOnAPI }, false,
			"keep /metrics and the console on the API port under auth.mode sigv4"),
	}
}
