package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shardlog/shardlog/internal/durable"
)

// every runs fn every interval until the store closes. The caller has
// added one to s.wg.
func (s *Store) every(interval time.Duration, fn func()) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

// Compact runs one pass of the retention compactor: in every stream it
// retires sealed segments whose newest record is past retention (oldest
// first), rolls active segments that have aged, compresses sealed segments
// when a codec is configured, and drops closed shards whose records have all
// expired. Errors are logged; the pass goes on with the next
// shard. Compact is safe to call concurrently with everything else; tests call
// it directly with an injected clock.
func (s *Store) Compact() {
	for _, st := range s.Streams() {
		if st.deleting.Load() {
			continue
		}
		for _, sh := range st.Shards() {
			if !sh.Loaded() {
				if !sh.mayHaveExpired(sh.horizonMs()) {
					continue // an idle shard stays unopened
				}
				if err := sh.ensure(); err != nil {
					s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("compactor")
					continue
				}
			}
			if _, err := sh.expire(); err != nil {
				s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("compactor")
			}
			if _, err := sh.compress(); err != nil {
				s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("compactor")
			}
		}
		if err := st.dropExpiredShards(); err != nil {
			s.log.Error().Err(err).Str("stream", st.name).Msg("compactor")
		}
	}
}

// dropExpiredShards removes closed shards that hold no segment any more and
// were closed longer than the retention period ago: their metadata first
// (atomically), then their directories.
func (st *Stream) dropExpiredShards() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	horizon := st.store.opts.Now().Add(-time.Duration(st.retention.Load())).UnixMilli()
	var drop []*Shard
	for _, sh := range st.shards {
		if sh.Closed() && sh.ClosedMs() < horizon && sh.empty() {
			drop = append(drop, sh)
		}
	}
	if len(drop) == 0 || st.deleting.Load() {
		return nil
	}
	gone := make(map[string]bool, len(drop))
	for _, sh := range drop {
		gone[sh.id] = true
	}
	err := st.updateLocked(func(m *streamMeta) error {
		kept := m.Shards[:0]
		for _, sm := range m.Shards {
			if !gone[sm.ID] {
				kept = append(kept, sm)
			}
		}
		m.Shards = kept
		return nil
	})
	if err != nil {
		return err
	}
	kept := st.shards[:0]
	for _, sh := range st.shards {
		if !gone[sh.id] {
			kept = append(kept, sh)
		}
	}
	clear(st.shards[len(kept):])
	st.shards = kept
	for _, sh := range drop {
		if err := os.RemoveAll(sh.dir); err != nil {
			return fmt.Errorf("drop expired shard %s: %w", sh.id, err)
		}
		st.store.log.Info().Str("stream", st.name).Str("shard", sh.id).Msg("dropped expired closed shard")
	}
	return durable.SyncDir(filepath.Join(st.dir))
}
