package server

import (
	"crypto/tls"
	"time"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/server/limits"
)

// Options configures a Server. Zero fields take the defaults listed on each
// field (see DefaultOptions). The listen address is not here: the caller owns
// listeners and hands them to Serve.
type Options struct {
	// Logger receives one access line per request at debug level and every
	// InternalFailure at error level. The zero Logger discards everything.
	Logger zerolog.Logger
	// MaxBodyBytes is the largest request body accepted, in bytes (default
	// 16 MiB: a 10 MiB record base64-encoded plus JSON overhead). Larger
	// bodies are answered with a JSON error and status 413.
	MaxBodyBytes int
	// MaxInflightBodyBytes bounds the request bodies being read or held at
	// once, all connections together (default 256 MiB, at least
	// MaxBodyBytes); a request that cannot get its share within 5 s is
	// answered ServiceUnavailable.
	MaxInflightBodyBytes int
	// ReadTimeout bounds reading one request, headers and body, and the
	// sniffing of the first bytes of a new connection (default 30s).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response (default 30s).
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle for this long (default 2m).
	IdleTimeout time.Duration
	// MaxConns is the most connections served at once, HTTP/1.1 and HTTP/2
	// together; Accept waits while the limit is reached (default 10000).
	MaxConns int
	// IteratorTTL is how long a shard iterator stays valid (default 5m, as in
	// AWS); older iterators get ExpiredIteratorException.
	IteratorTTL time.Duration
	// ShardLimit is the account's shard limit reported by DescribeLimits and
	// enforced by CreateStream and resharding with LimitExceededException
	// (default 10000).
	ShardLimit int
	// OnDemandStreamLimit is the number of ON_DEMAND streams the account may
	// have (default 50).
	OnDemandStreamLimit int
	// SubscriptionLifetime is how long a SubscribeToShard subscription lasts
	// before its response ends (default 5m, as in AWS).
	SubscriptionLifetime time.Duration
	// SubscriptionHeartbeat is how often an idle subscription sends an event
	// with no records, carrying its ContinuationSequenceNumber, so that a
	// consumer of a quiet (even never-written) shard can checkpoint and see
	// the subscription is alive (default 5s, about what AWS does).
	SubscriptionHeartbeat time.Duration
	// SubscribeRetryInterval is AWS's takeover rule: a SubscribeToShard for
	// the same consumer and shard within this of the last successful one is
	// refused with ResourceInUseException; a later one takes over and ends
	// the earlier subscription (default 5s).
	SubscribeRetryInterval time.Duration
	// Limits is the limits emulator (throughput limits, error injection,
	// account limits); the zero value emulates nothing. SetLimits changes it
	// live.
	Limits Limits
	// TLS, when set, makes Serve terminate TLS on every connection it
	// accepts and choose the protocol by ALPN: "h2" is served by package
	// server/h2, anything else by fasthttp as HTTP/1.1. Cleartext h2c is then
	// not accepted. Empty NextProtos means h2 and http/1.1; a zero
	// MinVersion means TLS 1.2. Nil (the default) serves cleartext. The
	// config is cloned by New.
	TLS *tls.Config
	// Auth is access control: AuthNone (the zero value) verifies nothing
	// but requires a well-formed SigV4 Authorization header (or presigned
	// query), as AWS does, unless Auth.AcceptUnsigned; AuthSigV4 verifies AWS Signature Version 4 against Auth.Keys
	// and enforces their policies. SetAuth changes it live.
	Auth Auth
	// Console serves the web console at GET /console on the admin
	// listener (ServeAdmin) and, as adminOnAPI allows, on the API port
	// (default off here; config.yaml turns it on).
	Console bool
	// ExposeAdminOnAPI keeps serving /metrics and the console on the API
	// port under AuthSigV4, unsigned, as under AuthNone; off (the default),
	// they are refused there with 403 and served only by ServeAdmin.
	ExposeAdminOnAPI bool
	// Now is the clock (default time.Now); tests inject their own to expire
	// iterators and to drive the limits emulator.
	Now func() time.Time
}

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{
		Logger:                 zerolog.Nop(),
		MaxBodyBytes:           16 << 20,
		MaxInflightBodyBytes:   256 << 20,
		ReadTimeout:            30 * time.Second,
		WriteTimeout:           30 * time.Second,
		IdleTimeout:            2 * time.Minute,
		MaxConns:               10000,
		IteratorTTL:            5 * time.Minute,
		ShardLimit:             10000,
		OnDemandStreamLimit:    50,
		SubscriptionLifetime:   5 * time.Minute,
		SubscriptionHeartbeat:  5 * time.Second,
		SubscribeRetryInterval: 5 * time.Second,
		Now:                    time.Now,
	}
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = d.MaxBodyBytes
	}
	if o.MaxInflightBodyBytes <= 0 {
		o.MaxInflightBodyBytes = d.MaxInflightBodyBytes
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = d.ReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = d.MaxConns
	}
	if o.IteratorTTL <= 0 {
		o.IteratorTTL = d.IteratorTTL
	}
	if o.ShardLimit <= 0 {
		o.ShardLimit = d.ShardLimit
	}
	if o.OnDemandStreamLimit <= 0 {
		o.OnDemandStreamLimit = d.OnDemandStreamLimit
	}
	if o.SubscriptionLifetime <= 0 {
		o.SubscriptionLifetime = d.SubscriptionLifetime
	}
	if o.SubscriptionHeartbeat <= 0 {
		o.SubscriptionHeartbeat = d.SubscriptionHeartbeat
	}
	if o.SubscribeRetryInterval <= 0 {
		o.SubscribeRetryInterval = d.SubscribeRetryInterval
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	return o
}

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
