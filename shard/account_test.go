package shard

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestAccountLimitsAreAtomic races creations and splits against a shard
// limit and an on-demand stream limit: however they interleave, the account
// never passes either, and every refusal is a *LimitError.
func TestAccountLimitsAreAtomic(t *testing.T) {
	s := mustOpen(t, DefaultOptions(t.TempDir()))
	s.SetAccountLimits(AccountLimits{Shards: 6, OnDemandStreams: 2})
	base := mustCreate(t, s, "base", 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range 8 {
		wg.Go(func() {
			var err error
			switch i % 2 {
			case 0:
				_, err = s.CreateStream(StreamConfig{Name: fmt.Sprintf("od-%d", i), ShardCount: 1, Mode: ModeOnDemand})
			default:
				sh := base.OpenShards()[0]
				r := sh.HashRange()
				err = base.SplitShard(sh.ID(), r.Start.Add1().Add1())
				if errors.Is(err, ErrShardClosed) || errors.Is(err, ErrShardNotFound) {
					err = nil // another split got this shard first
				}
			}
			var le *LimitError
			if errors.As(err, &le) && errors.Is(err, ErrLimitExceeded) {
				mu.Lock()
				refused++
				mu.Unlock()
			} else if err != nil {
				t.Errorf("op %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if open := s.OpenShardCount(); open > 6 {
		t.Errorf("%d open shards, limit 6", open)
	}
	if n := s.OnDemandStreamCount(); n > 2 {
		t.Errorf("%d on-demand streams, limit 2", n)
	}
	if refused == 0 {
		t.Error("no change was refused")
	}
}

// TestConsumerLimit refuses a registration at AccountLimits.ConsumersPerStream.
func TestConsumerLimit(t *testing.T) {
	s := mustOpen(t, DefaultOptions(t.TempDir()))
	s.SetAccountLimits(AccountLimits{ConsumersPerStream: 1})
	st := mustCreate(t, s, "s", 1)
	if _, err := st.RegisterConsumer("a"); err != nil {
		t.Fatal(err)
	}
	_, err := st.RegisterConsumer("b")
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != LimitConsumers || le.Current != 1 || le.Max != 1 {
		t.Fatalf("second consumer: %v, want a consumer LimitError", err)
	}
}
