package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// config is the whole configuration of the daemon, as config.yaml spells it.
// defaultConfig gives every key its value; a file overrides only the keys it
// sets, and flags override the file. Field tags are the YAML keys.
type config struct {
	Listen      string         `yaml:"listen"`       // host:port of the Kinesis API (HTTP/1.1 and h2c)
	DataDir     string         `yaml:"data_dir"`     // directory of the store
	Region      string         `yaml:"region"`       // region in stream ARNs
	AccountID   string         `yaml:"account_id"`   // 12-digit account id in stream ARNs
	Log         logConfig      `yaml:"log"`          // root logger
	Storage     storageConfig  `yaml:"storage"`      // segments, durability, retention
	Streams     streamsConfig  `yaml:"streams"`      // emulated state transition delays
	Limits      limitsConfig   `yaml:"limits"`       // account limits and connection bounds
	Emulator    emulatorConfig `yaml:"emulator"`     // AWS's per-shard throughput limits and error injection
	IteratorTTL time.Duration  `yaml:"iterator_ttl"` // lifetime of a shard iterator
	Console     bool           `yaml:"console"`      // serve the web console at GET /console on the API port
	TLS         tlsFiles       `yaml:"tls"`          // certificate and key; TLS on the API port when set
	Auth        authConfig     `yaml:"auth"`         // request signatures and per-key policies (configauth.go)
	Admin       adminConfig    `yaml:"admin"`        // the operator's listener: /metrics, the console, the unsigned API (configadmin.go)
}

// tlsFiles names the PEM files of the API's TLS certificate and key; both
// empty serves cleartext (`shardlog cert` makes a self-signed pair).
type tlsFiles struct {
	CertFile string `yaml:"cert_file"` // certificate chain, leaf first
	KeyFile  string `yaml:"key_file"`  // private key of the leaf
}

// logConfig configures the root zerolog logger.
type logConfig struct {
	Level  string `yaml:"level"`  // trace, debug, info, warn, error or disabled
	Format string `yaml:"format"` // json (one object per line) or console (human-readable)
}

// storageConfig configures the shard store and its segments.
type storageConfig struct {
	SegmentBytes       int64         `yaml:"segment_bytes"`        // size of an active segment file, bytes
	IndexIntervalBytes int           `yaml:"index_interval_bytes"` // bytes of records between sparse index entries
	MaxSegmentAge      time.Duration `yaml:"max_segment_age"`      // roll an active segment this old
	Compression        string        `yaml:"compression"`          // codec of sealed segments: none, zstd or s2
	Fsync              string        `yaml:"fsync"`                // always, interval or never
	FsyncInterval      time.Duration `yaml:"fsync_interval"`       // sync period under fsync: interval
	RetentionFloor     time.Duration `yaml:"retention_floor"`      // how long a 24-hour stream keeps records
	CompactInterval    time.Duration `yaml:"compact_interval"`     // period of the retention compactor
}

// streamsConfig keeps streams in their transitional states for a while, to
// exercise clients' waiters; zero makes transitions instant.
type streamsConfig struct {
	CreateDelay time.Duration `yaml:"create_delay"` // time in CREATING
	DeleteDelay time.Duration `yaml:"delete_delay"` // time in DELETING
	UpdateDelay time.Duration `yaml:"update_delay"` // time in UPDATING
}

// limitsConfig bounds the account and the HTTP connections.
type limitsConfig struct {
	ShardLimit          int           `yaml:"shard_limit"`                // open shards per account
	OnDemandStreamLimit int           `yaml:"on_demand_stream_limit"`     // on-demand streams per account
	MaxBodyBytes        int           `yaml:"max_body_bytes"`             // largest request body, bytes
	MaxInflightBodies   int           `yaml:"max_inflight_body_bytes"`    // request bodies read or held at once, bytes
	MaxConns            int           `yaml:"max_conns"`                  // concurrent connections
	ReadTimeout         time.Duration `yaml:"read_timeout"`               // to read a whole request
	WriteTimeout        time.Duration `yaml:"write_timeout"`              // to write a whole response
	IdleTimeout         time.Duration `yaml:"idle_timeout"`               // keep-alive connection idle time
	ConsumersPerStream  int           `yaml:"consumers_per_stream"`       // registered fan-out consumers per stream
	ScalingsPerDay      int           `yaml:"update_shard_count_per_day"` // UpdateShardCount calls per stream per rolling day; 0 unlimited
}

// emulatorConfig is the limits emulator of package server, off by default.
type emulatorConfig struct {
	Throughput            bool    `yaml:"throughput"`               // enforce the per-shard rates below
	WriteBytesPerSecond   int     `yaml:"write_bytes_per_second"`   // per shard, data plus partition key
	WriteRecordsPerSecond int     `yaml:"write_records_per_second"` // per shard
	ReadBytesPerSecond    int     `yaml:"read_bytes_per_second"`    // per shard, GetRecords data; and per subscription, pushed data
	ReadCallsPerSecond    int     `yaml:"read_calls_per_second"`    // per shard, GetRecords calls
	ErrorProbability      float64 `yaml:"error_probability"`        // chance of an injected InternalFailure per request
}

// defaultConfig returns the configuration used when no file is given. Its
// storage, limits and iterator values are the packages' own defaults; the
// top-level config.yaml spells out the same values and TestDefaultConfigFile
// keeps them equal.
func defaultConfig() config {
	so, vo := shard.DefaultOptions(""), server.DefaultOptions()
	return config{
		Listen:    "127.0.0.1:4567",
		DataDir:   "./data",
		Region:    so.Region,
		AccountID: so.AccountID,
		Log:       logConfig{Level: "info", Format: "json"},
		Storage: storageConfig{
			SegmentBytes:       so.Segment.MaxSegmentBytes,
			IndexIntervalBytes: so.Segment.IndexIntervalBytes,
			MaxSegmentAge:      so.MaxSegmentAge,
			Compression:        so.Segment.Compression.String(),
			Fsync:              string(so.Fsync),
			FsyncInterval:      so.FsyncInterval,
			RetentionFloor:     so.RetentionFloor,
			CompactInterval:    so.ExpireInterval,
		},
		Streams: streamsConfig{
			CreateDelay: so.CreateDelay,
			DeleteDelay: so.DeleteDelay,
			UpdateDelay: so.UpdateDelay,
		},
		Limits: limitsConfig{
			ShardLimit:          vo.ShardLimit,
			OnDemandStreamLimit: vo.OnDemandStreamLimit,
			MaxBodyBytes:        vo.MaxBodyBytes,
			MaxInflightBodies:   vo.MaxInflightBodyBytes,
			MaxConns:            vo.MaxConns,
			ReadTimeout:         vo.ReadTimeout,
			WriteTimeout:        vo.WriteTimeout,
			IdleTimeout:         vo.IdleTimeout,
			ConsumersPerStream:  shard.MaxConsumers,
			ScalingsPerDay:      0,
		},
		Emulator: emulatorConfig{
			WriteBytesPerSecond:   server.AWSWriteBytesPerSecond,
			WriteRecordsPerSecond: server.AWSWriteRecordsPerSecond,
			ReadBytesPerSecond:    server.AWSReadBytesPerSecond,
			ReadCallsPerSecond:    server.AWSReadCallsPerSecond,
		},
		IteratorTTL: vo.IteratorTTL,
		Console:     true,
		Auth:        authConfig{Mode: string(server.AuthNone), Keys: []authKeyConfig{}},
		Admin:       adminConfig{Listen: ""},
	}
}

// loadConfig returns defaultConfig overlaid with the YAML file at path and
// validated. An empty path means no file.
func loadConfig(path string) (config, error) {
	c := defaultConfig()
	if path == "" {
		return c, c.validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := c.overlay(data); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.checkSecretsPrivate(path); err != nil {
		return c, err
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// overlay sets the keys present in the YAML document data. It refuses
// unknown and repeated keys, values of the wrong type and a second document,
// each with an error that names the key. It walks the node tree itself rather
// than using Decoder.KnownFields, whose errors name neither the section of an
// unknown key nor the key of a mistyped value.
func (c *config) overlay(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil // an empty file sets nothing
	case err != nil:
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return decodeNode(doc.Content[0], reflect.ValueOf(c).Elem(), "")
}

// decodeNode decodes a mapping node into the struct v key by key, recursing
// into sections, so that every error carries the dotted key (storage.fsync)
// and its line. A null section (a key with nothing under it) sets nothing.
func decodeNode(n *yaml.Node, v reflect.Value, prefix string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		where := "the document"
		if prefix != "" {
			where = "key " + strings.TrimSuffix(prefix, ".")
		}
		return fmt.Errorf("line %d: %s must be a mapping of keys", n.Line, where)
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if seen[k.Value] {
			return fmt.Errorf("line %d: key %s is set twice", k.Line, key)
		}
		seen[k.Value] = true
		f, ok := fieldByTag(v, k.Value)
		if !ok {
			return fmt.Errorf("line %d: unknown key %s", k.Line, key)
		}
		if f.Kind() == reflect.Struct {
			if err := decodeNode(val, f, key+"."); err != nil {
				return err
			}
			continue
		}
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct && val.Kind == yaml.SequenceNode {
			// A list of sections (auth.keys): each item key by key.
			items := reflect.MakeSlice(f.Type(), len(val.Content), len(val.Content))
			for j, item := range val.Content {
				if err := decodeNode(item, items.Index(j), fmt.Sprintf("%s[%d].", key, j)); err != nil {
					return err
				}
			}
			f.Set(items)
			continue
		}
		if err := val.Decode(f.Addr().Interface()); err != nil {
			return fmt.Errorf("line %d: key %s: %s", val.Line, key, yamlReason(err))
		}
	}
	return nil
}

// fieldByTag returns the field of struct v whose yaml tag is key.
func fieldByTag(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("yaml") == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// yamlReason strips yaml.v3's "yaml: unmarshal errors: line N:" wrapping,
// since decodeNode states the line and key itself.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			msg = rest
		}
		return msg
	}
	return err.Error()
}

var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

// regionRe is the shape of an AWS region name as it appears in ARNs.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// validate checks every value and names the first bad key.
func (c *config) validate() error {
	bad := func(key string, val any, want string) error {
		return fmt.Errorf("key %s: invalid value %v: %s", key, val, want)
	}
	oneOf := func(key, val string, allowed ...string) error {
		for _, a := range allowed {
			if val == a {
				return nil
			}
		}
		return bad(key, fmt.Sprintf("%q", val), "must be one of "+strings.Join(allowed, ", "))
	}
	positive := func(key string, d time.Duration) error {
		if d <= 0 {
			return bad(key, d, "must be a positive duration")
		}
		return nil
	}
	nonNegative := func(key string, d time.Duration) error {
		if d < 0 {
			return bad(key, d, "must not be negative")
		}
		return nil
	}
	s, l := c.Storage, c.Limits
	checks := []func() error{
		func() error {
			if _, _, err := net.SplitHostPort(c.Listen); err != nil {
				return bad("listen", fmt.Sprintf("%q", c.Listen), "must be host:port, e.g. 127.0.0.1:4567")
			}
			return nil
		},
		func() error {
			if c.DataDir == "" {
				return bad("data_dir", `""`, "must be a directory path")
			}
			return nil
		},
		func() error {
			if !regionRe.MatchString(c.Region) {
				return bad("region", fmt.Sprintf("%q", c.Region), "must look like us-east-1")
			}
			return nil
		},
		func() error {
			if !accountIDRe.MatchString(c.AccountID) {
				return bad("account_id", fmt.Sprintf("%q", c.AccountID), "must be 12 digits")
			}
			return nil
		},
		func() error {
			return oneOf("log.level", c.Log.Level, "trace", "debug", "info", "warn", "error", "disabled")
		},
		func() error { return oneOf("log.format", c.Log.Format, "json", "console") },
		func() error {
			// Any size holds every record the API accepts: a record larger
			// than a segment gets a segment of its own (package segment).
			if s.SegmentBytes < 2<<20 || s.SegmentBytes > 1<<40 {
				return bad("storage.segment_bytes", s.SegmentBytes, "must be between 2097152 (2 MiB) and 1099511627776 (1 TiB)")
			}
			return nil
		},
		func() error {
			if s.IndexIntervalBytes < 64 || int64(s.IndexIntervalBytes) > s.SegmentBytes {
				return bad("storage.index_interval_bytes", s.IndexIntervalBytes, "must be at least 64 and at most storage.segment_bytes")
			}
			return nil
		},
		func() error { return positive("storage.max_segment_age", s.MaxSegmentAge) },
		func() error { return oneOf("storage.compression", s.Compression, "none", "zstd", "s2") },
		func() error {
			return oneOf("storage.fsync", s.Fsync, string(shard.FsyncInterval), string(shard.FsyncAlways), string(shard.FsyncNever))
		},
		func() error { return positive("storage.fsync_interval", s.FsyncInterval) },
		func() error {
			if s.RetentionFloor < time.Second || s.RetentionFloor > shard.DefaultRetention {
				return bad("storage.retention_floor", s.RetentionFloor, "must be between 1s and 24h")
			}
			return nil
		},
		func() error { return positive("storage.compact_interval", s.CompactInterval) },
		func() error { return nonNegative("streams.create_delay", c.Streams.CreateDelay) },
		func() error { return nonNegative("streams.delete_delay", c.Streams.DeleteDelay) },
		func() error { return nonNegative("streams.update_delay", c.Streams.UpdateDelay) },
		func() error {
			if l.ShardLimit < 1 {
				return bad("limits.shard_limit", l.ShardLimit, "must be at least 1")
			}
			return nil
		},
		func() error {
			if l.OnDemandStreamLimit < 1 {
				return bad("limits.on_demand_stream_limit", l.OnDemandStreamLimit, "must be at least 1")
			}
			return nil
		},
		func() error {
			// PutRecords carries up to 10 MiB of data, base64-encoded in JSON.
			if l.MaxBodyBytes < 1<<20 {
				return bad("limits.max_body_bytes", l.MaxBodyBytes, "must be at least 1048576 (1 MiB)")
			}
			return nil
		},
		func() error {
			if l.MaxInflightBodies < l.MaxBodyBytes {
				return bad("limits.max_inflight_body_bytes", l.MaxInflightBodies, "must be at least limits.max_body_bytes ("+strconv.Itoa(l.MaxBodyBytes)+")")
			}
			return nil
		},
		func() error {
			if l.MaxConns < 1 {
				return bad("limits.max_conns", l.MaxConns, "must be at least 1")
			}
			return nil
		},
		func() error { return positive("limits.read_timeout", l.ReadTimeout) },
		func() error { return positive("limits.write_timeout", l.WriteTimeout) },
		func() error { return positive("limits.idle_timeout", l.IdleTimeout) },
		func() error { return positive("iterator_ttl", c.IteratorTTL) },
		func() error {
			if l.ConsumersPerStream < 1 || l.ConsumersPerStream > shard.MaxConsumers {
				return bad("limits.consumers_per_stream", l.ConsumersPerStream, fmt.Sprintf("must be between 1 and %d", shard.MaxConsumers))
			}
			return nil
		},
		func() error {
			if l.ScalingsPerDay < 0 {
				return bad("limits.update_shard_count_per_day", l.ScalingsPerDay, "must not be negative (0: unlimited)")
			}
			return nil
		},
		func() error { return c.Emulator.validate(bad) },
		func() error { return c.Auth.validate(bad) },
		func() error { return c.Admin.validate(bad) },
		func() error {
			if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
				return bad("tls.cert_file", fmt.Sprintf("%q", c.TLS.CertFile), "tls.cert_file and tls.key_file must be set together")
			}
			return nil
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
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
	o.ExpireInterval = c.Storage.CompactInterval
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
