package ops

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/server/limits"
	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// Options are what the operations need of the server's configuration.
// Every field must be set (the server fills its defaults first).
type Options struct {
	// Logger receives every InternalFailure at error level.
	Logger zerolog.Logger
	// IteratorTTL is how long a shard iterator stays valid.
	IteratorTTL time.Duration
	// ShardLimit is the account's shard limit (DescribeLimits, and the
	// store's AccountLimits.Shards).
	ShardLimit int
	// OnDemandStreamLimit is the number of ON_DEMAND streams the account
	// may have.
	OnDemandStreamLimit int
	// SubscriptionLifetime is how long a SubscribeToShard subscription
	// lasts.
	SubscriptionLifetime time.Duration
	// SubscriptionHeartbeat is how often an idle subscription sends an
	// empty event.
	SubscriptionHeartbeat time.Duration
	// SubscribeRetryInterval is AWS's takeover rule for SubscribeToShard.
	SubscribeRetryInterval time.Duration
	// Now is the clock.
	Now func() time.Time
}

// Service runs the Kinesis operations against one store: it holds
// everything they share (the store, the token sealers, the live
// subscriptions, the limits emulator, the metric registry, the compiled
// resource policies). Its methods are safe for concurrent use; a server
// creates one, so two servers in a process share nothing.
type Service struct {
	store *shard.Store
	opts  Options
	log   zerolog.Logger

	// tokens seals iterators and NextTokens under keys derived from the
	// store's secret, so tokens survive restarts.
	tokens wire.Tokens
	// subs are the live SubscribeToShard subscriptions.
	subs *subscriptions
	// metrics are the server's metrics, which the operations update.
	metrics *metrics.Registry
	// limits are the limits emulator's settings (SetLimits), limiter its
	// per-shard state.
	limits  atomic.Pointer[limits.Limits]
	limiter *limits.Limiter
	// policies are the compiled resource policies of the streams, by
	// document text.
	policies *policy.Cache
}

// New returns the Service of store, reporting to m, with the limits
// emulator set to l.
func New(store *shard.Store, opts Options, m *metrics.Registry, l limits.Limits) *Service {
	s := &Service{
		store:    store,
		opts:     opts,
		log:      opts.Logger,
		tokens:   wire.NewTokens(store.Secret()),
		subs:     newSubscriptions(),
		metrics:  m,
		limiter:  limits.NewLimiter(opts.Now),
		policies: policy.NewCache(),
	}
	s.SetLimits(l)
	return s
}

// SetLimits replaces the limits emulator's settings; requests that start
// after it returns see them. Shards keep the allowance they have.
func (s *Service) SetLimits(l limits.Limits) {
	l = l.WithDefaults()
	s.limits.Store(&l)
	// The store enforces the account limits with the changes they guard.
	s.store.SetAccountLimits(shard.AccountLimits{
		Shards:             s.opts.ShardLimit,
		OnDemandStreams:    s.opts.OnDemandStreamLimit,
		ConsumersPerStream: l.ConsumersPerStream,
	})
}

// Limits returns the limits in force.
func (s *Service) Limits() limits.Limits { return *s.limits.Load() }

// Close ends every subscription and refuses new ones (server shutdown).
func (s *Service) Close() { s.subs.closeAll() }
