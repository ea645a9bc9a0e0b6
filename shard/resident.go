package shard

import (
	"slices"
	"sync/atomic"
	"time"
)

// residentTick is the resolution of the use clock that orders shards by
// their last use, and how often idle shards are looked for.
const residentTick = time.Second

// residency bounds how many shards hold their segments open (mappings,
// memory) at once. A shard loads on first use (Shard.ensure) and records
// the use clock on every later use; the store's residency loop makes a
// shard dormant again once it has been idle for IdleShardTimeout, and,
// when more than MaxLoadedShards are loaded, the least recently used ones
// first; past twice MaxLoadedShards a new load waits for it (admit). Without
// it a store whose shards are all written once would keep
// two mappings per shard, past the kernel's map count limit
// (vm.max_map_count, 65,530 by default) at about 32,000 shards.
type residency struct {
	loaded atomic.Int64  // shards loaded now
	clock  atomic.Int64  // use clock: advanced every residentTick
	kick   chan struct{} // wakes the loop early when loaded passes max
	max    int64
}

func newResidency(max int) *residency {
	return &residency{max: int64(max), kick: make(chan struct{}, 1)}
}

// loadedOne counts a newly loaded shard and wakes the loop when the bound
// is passed.
func (r *residency) loadedOne() {
	if r.loaded.Add(1) > r.max {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// admitWait is the longest admit holds a load back.
const admitWait = time.Second

// admit holds a load back while twice MaxLoadedShards are loaded, waking
// the residency loop, until that has unloaded enough or admitWait has
// passed: when shards load faster than idle ones can be synced and
// unmapped (a burst of first writes to thousands of shards), the loads
// slow down to that pace instead of running the process out of mappings.
func (r *residency) admit() {
	for deadline := time.Now().Add(admitWait); r.loaded.Load() >= 2*r.max && time.Now().Before(deadline); {
		select {
		case r.kick <- struct{}{}:
		default:
		}
		time.Sleep(time.Millisecond)
	}
}

// residencyLoop runs until the store stops: every residentTick, or when
// kicked, it makes idle and excess shards dormant.
func (s *Store) residencyLoop() {
	defer s.wg.Done()
	t := time.NewTicker(residentTick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.res.clock.Add(1)
		case <-s.res.kick:
		}
		s.unloadIdle()
	}
}

// unloadIdle makes dormant every loaded shard unused for IdleShardTimeout
// and then, while more than MaxLoadedShards stay loaded, the least recently
// used others, down to seven eighths of the bound so that a burst of new
// shards does not wake it for each one. A shard that is busy at that
// moment (any of its locks held) is skipped, as are the shards of a stream
// being resharded or deleted.
func (s *Store) unloadIdle() {
	now := s.res.clock.Load()
	idleTicks := max(1, int64(s.opts.IdleShardTimeout/residentTick))
	type candidate struct {
		st   *Stream
		sh   *Shard
		used int64
	}
	var loaded []candidate
	for _, st := range s.Streams() {
		if st.deleting.Load() {
			continue
		}
		for _, sh := range st.Shards() {
			if sh.loaded.Load() {
				loaded = append(loaded, candidate{st, sh, sh.lastUse.Load()})
			}
		}
	}
	slices.SortFunc(loaded, func(a, b candidate) int { return int(a.used - b.used) })
	target := s.res.max - s.res.max/8
	for _, c := range loaded {
		if now-c.used < idleTicks && s.res.loaded.Load() <= target {
			break // the rest were used more recently
		}
		if !c.st.mu.TryRLock() {
			continue // resharding or deleting: it takes the shards' locks itself
		}
		if c.sh.unload() {
			s.res.loaded.Add(-1)
		}
		c.st.mu.RUnlock()
	}
}
