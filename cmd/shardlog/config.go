package main

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// config is the whole configuration of the daemon, as config.yaml spells
// it. Its fields are only storage: every key, its default, its validation
// and its spelling in the file, the environment and the flags are declared
// once, in settings().
type config struct {
	Listen      string         // host:port of the Kinesis API (HTTP/1.1 and h2c)
	DataDir     string         // directory of the store
	Region      string         // region in stream ARNs
	AccountID   string         // 12-digit account id in stream ARNs
	Log         logConfig      // root logger
	Storage     storageConfig  // segments, durability, retention
	Streams     streamsConfig  // emulated state transition delays
	Limits      limitsConfig   // account limits and connection bounds
	Emulator    emulatorConfig // AWS's per-shard throughput limits and error injection
	IteratorTTL time.Duration  // lifetime of a shard iterator
	Console     bool           // serve the web console at GET /console on the API port
	TLS         tlsFiles       // certificate and key; TLS on the API port when set
	Auth        authConfig     // request signatures and per-key policies (configauth.go)
	Admin       adminConfig    // the operator's listener: /metrics, the console, the unsigned API (configadmin.go)
}

// tlsFiles names the PEM files of the API's TLS certificate and key; both
// empty serves cleartext (`shardlog cert` makes a self-signed pair).
type tlsFiles struct {
	CertFile string // certificate chain, leaf first
	KeyFile  string // private key of the leaf
}

// logConfig configures the root zerolog logger.
type logConfig struct {
	Level  string // trace, debug, info, warn, error or disabled
	Format string // json (one object per line) or console (human-readable)
}

// storageConfig configures the shard store and its segments.
type storageConfig struct {
	SegmentBytes       int64         // size of an active segment file, bytes
	IndexIntervalBytes int           // bytes of records between sparse index entries
	MaxSegmentAge      time.Duration // roll an active segment this old
	Compression        string        // codec of sealed segments: none, zstd or s2
	Fsync              string        // always, interval or never
	FsyncInterval      time.Duration // sync period under fsync: interval
	RetentionFloor     time.Duration // how long a 24-hour stream keeps records
	ExpireInterval     time.Duration // how often expired segments are deleted
	MaxLoadedShards    int           // shards with open segments at once
	IdleShardTimeout   time.Duration // unload a shard unused this long
}

// streamsConfig keeps streams in their transitional states for a while, to
// exercise clients' waiters; zero makes transitions instant.
type streamsConfig struct {
	CreateDelay time.Duration // time in CREATING
	DeleteDelay time.Duration // time in DELETING
	UpdateDelay time.Duration // time in UPDATING
}

// limitsConfig bounds the account and the HTTP connections.
type limitsConfig struct {
	ShardLimit          int           // open shards per account
	OnDemandStreamLimit int           // on-demand streams per account
	MaxBodyBytes        int           // largest request body, bytes
	MaxInflightBodies   int           // request bodies read or held at once, bytes
	ShardQueueBytes     int64         // puts queued per shard before it throttles; 0 unbounded
	MaxConns            int           // concurrent connections
	ReadTimeout         time.Duration // to read a whole request
	WriteTimeout        time.Duration // to write a whole response
	IdleTimeout         time.Duration // keep-alive connection idle time
	ConsumersPerStream  int           // registered fan-out consumers per stream
	ScalingsPerDay      int           // UpdateShardCount calls per stream per rolling day; 0 unlimited
}

// emulatorConfig is the limits emulator of package server, off by default.
type emulatorConfig struct {
	Throughput            bool    // enforce the per-shard rates below
	WriteBytesPerSecond   int     // per shard, data plus partition key
	WriteRecordsPerSecond int     // per shard
	ReadBytesPerSecond    int     // per shard, GetRecords data; and per subscription, pushed data
	ReadCallsPerSecond    int     // per shard, GetRecords calls
	ErrorProbability      float64 // chance of an injected InternalFailure per request
}

// defaultConfig returns the configuration used when no file is given: the
// default of every setting.
func defaultConfig() config {
	var c config
	for _, s := range settings() {
		s.setDefault(&c)
	}
	return c
}

// loadConfig returns the defaults overlaid with the YAML file at path (an
// empty path means none), validated; the environment and flags are not
// read (see layers for those).
func loadConfig(path string) (config, error) {
	return layers{file: path}.load()
}

// validate checks every value in the order of settings() and names the
// first bad key.
func (c *config) validate() error {
	for _, s := range settings() {
		if err := s.validate(c); err != nil {
			return err
		}
	}
	return nil
}

// compressions maps storage.compression to the segment codec.
var compressions = map[string]segment.Compression{"none": segment.None, "zstd": segment.Zstd, "s2": segment.S2}

// storeOptions converts a validated config to the shard store's Options.
func (c *config) storeOptions(log zerolog.Logger) shard.Options {
	o := shard.DefaultOptions(c.DataDir)
	o.Segment.MaxSegmentBytes = c.Storage.SegmentBytes
	o.Segment.IndexIntervalBytes = c.Storage.IndexIntervalBytes
	o.Segment.Compression = compressions[c.Storage.Compression]
	o.Segment.Logger = log
	o.Segment.Faults = crashPoints()
	o.MaxSegmentAge = c.Storage.MaxSegmentAge
	o.RetentionFloor = c.Storage.RetentionFloor
	o.ExpireInterval = c.Storage.ExpireInterval
	o.MaxLoadedShards = c.Storage.MaxLoadedShards
	o.IdleShardTimeout = c.Storage.IdleShardTimeout
	o.MaxQueuedBytes = c.Limits.ShardQueueBytes
	o.Fsync = shard.FsyncPolicy(c.Storage.Fsync)
	o.FsyncInterval = c.Storage.FsyncInterval
	o.Region = c.Region
	o.AccountID = c.AccountID
	o.CreateDelay = c.Streams.CreateDelay
	o.DeleteDelay = c.Streams.DeleteDelay
	o.UpdateDelay = c.Streams.UpdateDelay
	o.Logger = log
	return o
}

// serverOptions converts a validated config to the API server's Options.
func (c *config) serverOptions(log zerolog.Logger) server.Options {
	o := server.DefaultOptions()
	o.Logger = log
	o.MaxBodyBytes = c.Limits.MaxBodyBytes
	o.MaxInflightBodyBytes = c.Limits.MaxInflightBodies
	o.ReadTimeout = c.Limits.ReadTimeout
	o.WriteTimeout = c.Limits.WriteTimeout
	o.IdleTimeout = c.Limits.IdleTimeout
	o.MaxConns = c.Limits.MaxConns
	o.IteratorTTL = c.IteratorTTL
	o.Console = c.Console
	o.ExposeAdminOnAPI = c.Admin.ExposeOnAPI
	o.ShardLimit = c.Limits.ShardLimit
	o.OnDemandStreamLimit = c.Limits.OnDemandStreamLimit
	o.Limits = c.serverLimits()
	o.Auth, _ = c.Auth.serverAuth() // validated
	return o
}

// serverLimits converts the emulator and account limits to server.Limits.
func (c *config) serverLimits() server.Limits {
	e := c.Emulator
	return server.Limits{
		Throughput:             e.Throughput,
		WriteBytesPerSecond:    e.WriteBytesPerSecond,
		WriteRecordsPerSecond:  e.WriteRecordsPerSecond,
		ReadBytesPerSecond:     e.ReadBytesPerSecond,
		ReadCallsPerSecond:     e.ReadCallsPerSecond,
		ErrorProbability:       e.ErrorProbability,
		ConsumersPerStream:     c.Limits.ConsumersPerStream,
		UpdateShardCountPerDay: c.Limits.ScalingsPerDay,
	}
}
