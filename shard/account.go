package shard

import (
	"errors"
	"fmt"
)

// AccountLimits are the account-wide quotas a Store enforces, each checked
// atomically with the change it guards: no two concurrent creations,
// splits, scalings, mode switches or registrations can together pass one.
// A zero field is no limit.
type AccountLimits struct {
	// Shards is the most open shards of all streams together, checked by
	// CreateStream, SplitShard and UpdateShardCount.
	Shards int
	// OnDemandStreams is the most ON_DEMAND streams, DELETING ones
	// excluded, checked by CreateStream and SetMode.
	OnDemandStreams int
	// ConsumersPerStream is the most consumers a stream may have
	// registered, checked by RegisterConsumer; at MaxConsumers or above
	// (or zero) MaxConsumers alone applies (ErrTooManyConsumers).
	ConsumersPerStream int
}

// LimitKind names the quota of AccountLimits a change would pass.
type LimitKind uint8

// The account limits, as LimitError reports them.
const (
	LimitShards LimitKind = iota + 1
	LimitOnDemandStreams
	LimitConsumers
)

// ErrLimitExceeded matches every *LimitError (errors.Is).
var ErrLimitExceeded = errors.New("shard: account limit exceeded")

// LimitError is returned, wrapped, by a change that would take the account
// past one of its AccountLimits; nothing was changed.
type LimitError struct {
	Kind LimitKind
	// Current is the count the limit applies to before the change: open
	// shards, ON_DEMAND streams, or the stream's registered consumers.
	Current int
	// Max is the limit in force.
	Max int
	// Additional is what the change would have added (shards only).
	Additional int
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("shard: account limit exceeded (kind %d): %d now, %d more, limit %d", e.Kind, e.Current, e.Additional, e.Max)
}

// Is makes errors.Is(err, ErrLimitExceeded) true for every LimitError.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// SetAccountLimits replaces the account limits; changes that start after it
// returns are checked against them. It is safe for concurrent use.
func (s *Store) SetAccountLimits(l AccountLimits) { s.limits.Store(&l) }

// AccountLimits returns the account limits in force.
func (s *Store) AccountLimits() AccountLimits {
	if l := s.limits.Load(); l != nil {
		return *l
	}
	return AccountLimits{}
}

// OnDemandStreamCount returns the number of ON_DEMAND streams, DELETING ones
// excluded.
func (s *Store) OnDemandStreamCount() int {
	n := 0
	for _, st := range s.Streams() {
		if info := st.Info(); info.Mode == ModeOnDemand && info.Status != StatusDeleting {
			n++
		}
	}
	return n
}

// admitShardsLocked checks that the account may go from its open shards
// now to that count plus delta. s.account must be held, and neither s.mu
// nor any Stream.mu (it reads every stream).
func (s *Store) admitShardsLocked(delta int) error {
	limit := s.AccountLimits().Shards
	if limit <= 0 {
		return nil
	}
	if open := s.OpenShardCount(); open+delta > limit {
		return &LimitError{Kind: LimitShards, Current: open, Max: limit, Additional: delta}
	}
	return nil
}

// admitOnDemandLocked checks that the account may have one more ON_DEMAND
// stream. s.account must be held, and neither s.mu nor any Stream.mu.
func (s *Store) admitOnDemandLocked() error {
	limit := s.AccountLimits().OnDemandStreams
	if limit <= 0 {
		return nil
	}
	if n := s.OnDemandStreamCount(); n >= limit {
		return &LimitError{Kind: LimitOnDemandStreams, Current: n, Max: limit}
	}
	return nil
}
