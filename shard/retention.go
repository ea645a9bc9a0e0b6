package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shardlog/shardlog/index/durable"
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

// Expire runs one retention pass: in every stream it retires sealed
// segments whose newest record is past retention (oldest first), rolls
// active segments that have aged so that they can expire in turn, and drops
// closed shards whose records have all expired. A dormant shard is loaded
// only when the header of its oldest segment says something may have
// expired. Errors are logged; the pass goes on with the next shard. Expire
// is safe to call concurrently with everything else; the store runs it
// every ExpireInterval, and tests call it directly with an injected clock.
func (s *Store) Expire() {
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
					s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("expire")
					continue
				}
			}
			if _, err := sh.expire(); err != nil {
				s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("expire")
			}
		}
		if err := st.dropExpiredShards(); err != nil {
			s.log.Error().Err(err).Str("stream", st.name).Msg("expire")
		}
	}
}

// Compress rewrites the sealed segments of every loaded shard into
// compressed blocks when the store is configured with a codec (a no-op
// otherwise); dormant shards are left alone. Errors are logged; the pass
// goes on with the next shard. Safe to call concurrently with everything
// else; the store runs it after each Expire.
func (s *Store) Compress() {
	for _, st := range s.Streams() {
		if st.deleting.Load() {
			continue
		}
		for _, sh := range st.Shards() {
			if _, err := sh.compress(); err != nil {
				s.log.Error().Err(err).Str("stream", st.name).Str("shard", sh.id).Msg("compress")
			}
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
		if sh.loaded.Load() { // out of the residency loop's reach from now on
			st.store.res.loaded.Add(-1)
		}
	}
	for _, sh := range drop {
		if err := os.RemoveAll(sh.dir); err != nil {
			return fmt.Errorf("drop expired shard %s: %w", sh.id, err)
		}
		st.store.log.Info().Str("stream", st.name).Str("shard", sh.id).Msg("dropped expired closed shard")
	}
	return durable.SyncDir(filepath.Join(st.dir))
}
