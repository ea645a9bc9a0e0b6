package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// child describes a shard that resharding creates.
type child struct {
	hashRange      HashRange
	parent         string
	adjacentParent string
}

// SplitShard closes the open shard id and creates two children: one owning
// [start, newStart-1] and one owning [newStart, end] of its hash range.
// newStart must lie strictly inside the range (ErrBadSplitKey). It fails
// with a *LimitError when one more open shard would pass the account's
// AccountLimits.Shards.
func (st *Stream) SplitShard(id string, newStart HashKey) error {
	st.store.account.Lock()
	defer st.store.account.Unlock()
	if err := st.store.admitShardsLocked(1); err != nil {
		return fmt.Errorf("split %s: %w", id, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	parent, err := st.openShardLocked(id)
	if err != nil {
		return err
	}
	r := parent.hashRange
	if newStart.Cmp(r.Start) <= 0 || newStart.Cmp(r.End) >= 0 {
		return fmt.Errorf("split %s at %s: %w", id, newStart, ErrBadSplitKey)
	}
	return st.reshardLocked([]*Shard{parent}, []child{
		{hashRange: HashRange{Start: r.Start, End: newStart.Sub1()}, parent: id},
		{hashRange: HashRange{Start: newStart, End: r.End}, parent: id},
	})
}

// MergeShards closes two open shards with adjacent hash ranges and creates
// one child owning both ranges; id becomes its parent and adjacentID its
// adjacent parent.
func (st *Stream) MergeShards(id, adjacentID string) error {
	st.store.account.Lock() // the open shard count changes
	defer st.store.account.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	a, err := st.openShardLocked(id)
	if err != nil {
		return err
	}
	b, err := st.openShardLocked(adjacentID)
	if err != nil {
		return err
	}
	lo, hi := a, b
	if b.hashRange.Start.Cmp(a.hashRange.Start) < 0 {
		lo, hi = b, a
	}
	if a == b || lo.hashRange.End.Add1() != hi.hashRange.Start {
		return fmt.Errorf("merge %s and %s: %w", id, adjacentID, ErrNotAdjacent)
	}
	return st.reshardLocked([]*Shard{a, b}, []child{{
		hashRange:      HashRange{Start: lo.hashRange.Start, End: hi.hashRange.End},
		parent:         id,
		adjacentParent: adjacentID,
	}})
}

// UpdateShardCount closes every open shard and creates target shards that
// split the hash-key space evenly (uniform scaling). The target must differ
// from the open shard count and lie within [ceil(open/2), 2*open]. Each child
// names as parent the old shard holding its first hash key, and as adjacent
// parent the one holding its last key when that differs. It fails with a
// *LimitError when the account's open shards would pass
// AccountLimits.Shards.
func (st *Stream) UpdateShardCount(target int) error {
	st.store.account.Lock()
	defer st.store.account.Unlock()
	// Every change to the open shards holds st.store.account: the count
	// read here is the one resharded below.
	if err := st.store.admitShardsLocked(target - len(*st.open.Load())); err != nil {
		return fmt.Errorf("update shard count of %s to %d: %w", st.name, target, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.statusLocked() != StatusActive {
		return fmt.Errorf("update shard count of %s: %w", st.name, ErrNotActive)
	}
	open := *st.open.Load()
	n := len(open)
	if target == n || target < (n+1)/2 || target > 2*n || target > maxSeqIndex {
		return fmt.Errorf("update shard count of %s from %d to %d: %w", st.name, n, target, ErrBadShardCount)
	}
	owner := func(k HashKey) *Shard {
		i := sort.Search(n, func(i int) bool { return open[i].hashRange.End.Cmp(k) >= 0 })
		return open[i]
	}
	var children []child
	for _, r := range SplitEvenly(target) {
		c := child{hashRange: r, parent: owner(r.Start).id}
		if last := owner(r.End); last.id != c.parent {
			c.adjacentParent = last.id
		}
		children = append(children, c)
	}
	return st.reshardLocked(open, children)
}

// openShardLocked finds an open shard of an ACTIVE stream. st.mu must be held.
func (st *Stream) openShardLocked(id string) (*Shard, error) {
	if st.statusLocked() != StatusActive {
		return nil, fmt.Errorf("reshard %s: %w", st.name, ErrNotActive)
	}
	for _, sh := range st.shards {
		if sh.id == id {
			if sh.Closed() {
				return nil, fmt.Errorf("reshard %s: shard %s: %w", st.name, id, ErrShardClosed)
			}
			return sh, nil
		}
	}
	return nil, fmt.Errorf("reshard %s: shard %s: %w", st.name, id, ErrShardNotFound)
}

// reshardLocked closes parents and creates children, atomically across a
// crash: the children's directories are created first, then stream.json is
// rewritten with the parents closed and the children listed (the commit
// point), and only then are the parents closed in memory. Appends to the
// parents are held off for the duration. A crash before the commit leaves
// the parents open and the children's directories unlisted, which the next
// Open removes. st.mu must be held.
func (st *Stream) reshardLocked(parents []*Shard, children []child) error {
	// A copy: the caller's slice may be the published routing table, which
	// puts search by hash key without a lock and must never change.
	parents = slices.Clone(parents)
	slices.SortFunc(parents, func(a, b *Shard) int { return a.index - b.index })
	for _, p := range parents {
		if err := p.ensure(); err != nil {
			return fmt.Errorf("reshard %s: %w", st.name, err)
		}
	}
	for _, p := range parents {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	for _, p := range parents {
		if err := p.sticky.Load(); err != nil {
			return *err
		}
	}
	if st.store.opts.Fsync == FsyncAlways {
		// A closed shard is readable to its end. Under FsyncAlways readers
		// otherwise see only durable records, so sync what the parents hold
		// first: else an append still waiting for its group commit would be
		// delivered at the close even if that sync then failed and its put
		// were refused (and retried onto a child). A failed sync is sticky
		// and leaves the parents open.
		for _, p := range parents {
			if err := p.syncTo(p.next.Load()); err != nil {
				return fmt.Errorf("reshard %s: %w", st.name, err)
			}
		}
	}
	now := st.store.opts.Now().UnixMilli()
	created := now
	for _, p := range parents {
		created = max(created, p.createdMs)
	}
	m := st.meta.clone()
	ends := make(map[string]uint64, len(parents))
	for _, p := range parents {
		ends[p.id] = p.next.Load()
	}
	for i := range m.Shards {
		if end, ok := ends[m.Shards[i].ID]; ok {
			m.Shards[i].End = &end
			m.Shards[i].ClosedMs = now
		}
	}
	var made []*Shard
	undo := func() {
		for _, sh := range made {
			_ = sh.shutdown()
			_ = os.RemoveAll(sh.dir)
		}
	}
	for _, c := range children {
		cm := shardMeta{
			ID:             shardID(m.NextShardIndex),
			Index:          m.NextShardIndex,
			HashStart:      jsonKey{c.hashRange.Start},
			HashEnd:        jsonKey{c.hashRange.End},
			Parent:         c.parent,
			AdjacentParent: c.adjacentParent,
			CreatedMs:      created,
		}
		m.NextShardIndex++
		sh, err := openShard(st.shardSpec(cm), &st.store.opts)
		if err != nil {
			undo()
			return fmt.Errorf("reshard %s: %w", st.name, err)
		}
		made = append(made, sh)
		m.Shards = append(m.Shards, cm)
	}
	m.UpdatingUntilMs = st.updatingUntil()
	if err := writeJSONAtomic(filepath.Join(st.dir, streamFile), m, st.store.opts.fault); err != nil {
		undo()
		return fmt.Errorf("reshard %s: %w", st.name, err)
	}
	st.meta = m
	for _, p := range parents {
		if err := p.closeLocked(now); err != nil {
			// The metadata already says closed; the next Open agrees.
			st.store.log.Error().Err(err).Str("stream", st.name).Str("shard", p.id).Msg("close parent shard")
		}
	}
	st.shards = append(st.shards, made...)
	st.publishOpenLocked()
	st.store.prepare(st, made)
	st.store.log.Info().Str("stream", st.name).Int("closed", len(parents)).Int("created", len(made)).Msg("resharded")
	return nil
}
