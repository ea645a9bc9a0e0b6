package shard

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/segment"
)

// Record is one record as the shard stores it. Append fills Seq and ArrivalMs.
type Record = segment.Record

// Shard is one ordered, append-only sequence of records: a list of segment
// files of which the last is active while the shard is open.
//
// Concurrency: one appender at a time (Append holds the shard's write lock);
// readers never take that lock: they load the published segment list and hold
// a reference on each segment they read, so expiry can retire segments
// under them without unmapping memory they use.
type Shard struct {
	id    string
	index int
	seqID SeqID
	dir   string
	opts  *Options
	log   zerolog.Logger

	// Immutable after creation.
	hashRange      HashRange
	parent         string
	adjacentParent string
	createdMs      int64

	// retention is the stream's retention in nanoseconds, shared with it.
	retention *atomic.Int64
	// trimMs is the stream's trim horizon, shared with it: records that
	// arrived before it have expired whatever the retention says now.
	trimMs *atomic.Int64
	// nextFloor is the metadata's lowest position for the next record.
	nextFloor uint64
	// resume is where the next load resumes without flushing a new
	// reservation (see resumePoint); nil when unknown. Set by unload and
	// shutdown and used once by load, under loadMu; Open hands it out and
	// Close collects it while nothing else runs.
	resume *resumePoint

	loadMu  sync.Mutex  // serialises ensure and unload
	loaded  atomic.Bool // segments are open: set by ensure, cleared by unload
	loadErr error       // the failure of the first load; under loadMu
	// res counts loaded shards store-wide; lastUse is the use clock
	// (residency.clock) when the shard was last loaded, written or read.
	res     *residency
	lastUse atomic.Int64

	// pending is the bytes of appends waiting for mu or holding it, counted
	// only when Options.MaxQueuedBytes bounds them.
	pending atomic.Int64

	mu            sync.Mutex // serialises appends, rolls, close and retire
	active        *segment.Segment
	lastArrivalMs int64 // newest arrival time handed out; arrival times never go back
	// reserved is the durable reservation of the active segment: positions
	// below it may be handed out without writing anything first (see
	// reserveLocked).
	reserved uint64

	segs     atomic.Pointer[[]*segment.Segment] // published list, oldest first
	next     atomic.Uint64                      // the position the next record gets
	end      atomic.Uint64                      // position after the last record once closed; 0 while open
	closedMs atomic.Int64                       // when the shard was closed; 0 while open
	sticky   atomic.Pointer[error]              // first write/sync failure

	waitMu sync.Mutex
	waitCh chan struct{} // closed and cleared on the next append

	// commit is the store's group commit (FsyncAlways appends wait on it);
	// queued is the commit round the shard was last queued in, under
	// commit.mu.
	commit *committer
	queued *commitRound

	syncMu sync.Mutex // one sync of the shard at a time
	// onFS is set while the shard's directory is on the filesystem the
	// committer can sync at once (committer.fs); set by load.
	onFS atomic.Bool
	// durable is the position below which every record is synced: under
	// FsyncAlways readers see nothing at or above it (a high watermark),
	// so no consumer ever processes a record that power loss could take
	// back. Written under syncMu, read without a lock.
	durable atomic.Uint64

	// sealMu is held while a rolled segment is sealed in the background (one
	// at a time); taking it waits for that seal. Taken after mu and syncMu.
	sealMu sync.Mutex
	// prepMu is held while the next segment is created in the background
	// (prepareLocked), which then stores it in spare; a roll takes it from
	// there. spare changes only under prepMu. Neither the preparer nor
	// anything holding prepMu takes mu.
	prepMu sync.Mutex
	spare  atomic.Pointer[segment.Segment]

	// expireMu keeps expiring and compressing one segment from overlapping;
	// it is taken before mu, and appends never take it.
	expireMu sync.Mutex
}

// shardSpec is what a new or reopened shard is made from.
type shardSpec struct {
	meta      shardMeta
	dir       string
	retention *atomic.Int64
	trimMs    *atomic.Int64
	res       *residency
	commit    *committer
}

// ID returns the shard id, e.g. "shardId-000000000003".
func (sh *Shard) ID() string { return sh.id }

// Index returns the shard's number within its stream.
func (sh *Shard) Index() int { return sh.index }

// SeqID returns the identity its sequence numbers carry.
func (sh *Shard) SeqID() SeqID { return sh.seqID }

// HashRange returns the inclusive hash-key range the shard owns.
func (sh *Shard) HashRange() HashRange { return sh.hashRange }

// Parent returns the id of the shard this one was split or merged from, or "".
func (sh *Shard) Parent() string { return sh.parent }

// AdjacentParent returns the id of the second parent of a merged shard, or "".
func (sh *Shard) AdjacentParent() string { return sh.adjacentParent }

// CreatedMs returns when the shard was created, in ms since the Unix epoch.
func (sh *Shard) CreatedMs() int64 { return sh.createdMs }

// Closed reports whether the shard has been closed by resharding.
func (sh *Shard) Closed() bool { return sh.closedMs.Load() != 0 }

// ClosedMs returns when the shard was closed, or 0 while it is open.
func (sh *Shard) ClosedMs() int64 { return sh.closedMs.Load() }

// Tail returns the position the next appended record will get; every record
// below it is visible to readers. It loads a dormant shard (0 if that fails;
// reads then report the failure).
func (sh *Shard) Tail() uint64 {
	_ = sh.ensure()
	return sh.next.Load()
}

// End returns the position after the last record of a closed shard and true,
// or 0 and false while the shard is open.
func (sh *Shard) End() (uint64, bool) {
	if !sh.Closed() {
		return 0, false
	}
	return sh.end.Load(), true
}

// SequenceNumber formats the sequence number of position seq of this shard.
func (sh *Shard) SequenceNumber(seq uint64) string {
	var buf [seqDigits]byte
	return string(FormatSequenceNumber(buf[:0], sh.seqID, seq))
}

// StartingSequenceNumber is the sequence number of the shard's first position.
func (sh *Shard) StartingSequenceNumber() string { return sh.SequenceNumber(0) }

// EndingSequenceNumber is the sequence number of the last record of a closed
// shard (the starting one for a shard closed empty), or "" while it is open.
func (sh *Shard) EndingSequenceNumber() string {
	end, closed := sh.End()
	if !closed {
		return ""
	}
	if end > 0 {
		end--
	}
	return sh.SequenceNumber(end)
}

// SequenceNumberBefore formats the number that immediately precedes
// position pos: the sequence number of pos-1, or, for position 0, a number
// just below StartingSequenceNumber (kind 0 in the layout), which sorts
// before every record of the shard. Reading AFTER_SEQUENCE_NUMBER of it resumes at pos,
// so it is what a subscription sends as its ContinuationSequenceNumber, even
// on a shard nothing was ever written to.
func (sh *Shard) SequenceNumberBefore(pos uint64) string {
	if pos > 0 {
		return sh.SequenceNumber(pos - 1)
	}
	var buf [seqDigits]byte
	return string(formatSequenceNumberBefore(buf[:0], sh.seqID))
}

// Position parses a sequence number of this shard into its position. The
// number SequenceNumberBefore(0) gives position 0, where the first record
// is. It returns ErrBadSequenceNumber for malformed input and
// ErrForeignSequenceNumber for a number of another shard.
func (sh *Shard) Position(sequenceNumber string) (uint64, error) {
	pos, before, err := sh.parsePosition(sequenceNumber)
	if err != nil {
		return 0, err
	}
	if before {
		return 0, nil
	}
	return pos, nil
}

// PositionAfter is the position that follows a sequence number of this
// shard, as AFTER_SEQUENCE_NUMBER reads it: Position+1, or 0 for
// SequenceNumberBefore(0). The last possible position has nothing after
// it and stays where it is rather than wrap to 0. Errors are Position's.
func (sh *Shard) PositionAfter(sequenceNumber string) (uint64, error) {
	pos, before, err := sh.parsePosition(sequenceNumber)
	if err != nil {
		return 0, err
	}
	if before {
		return 0, nil
	}
	if pos == math.MaxUint64 {
		return pos, nil
	}
	return pos + 1, nil
}

// parsePosition parses a sequence number of this shard; before reports the
// number that precedes position 0 (see SequenceNumberBefore).
func (sh *Shard) parsePosition(sequenceNumber string) (pos uint64, before bool, err error) {
	d, err := parseSeq(sequenceNumber)
	if err != nil {
		return 0, false, err
	}
	if d.id == sh.seqID {
		return d.pos, d.before, nil
	}
	// Earlier releases wrote the number before position 0 as the last
	// position of the key one below the shard's.
	if d.legacy && d.pos == math.MaxUint64 && d.id.key()+1 == sh.seqID.key() {
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("shard %s: %w", sh.id, ErrForeignSequenceNumber)
}

// newShard makes a dormant shard from its metadata: it holds no file or
// mapping until first touched (see ensure), so a store with thousands of idle
// shards starts in time proportional to its metadata, not its data.
func newShard(spec shardSpec, opts *Options) *Shard {
	m := spec.meta
	sh := &Shard{
		id:             m.ID,
		index:          m.Index,
		seqID:          SeqID{EpochMs: m.CreatedMs, Index: m.Index},
		dir:            spec.dir,
		opts:           opts,
		hashRange:      HashRange{Start: m.HashStart.Key, End: m.HashEnd.Key},
		parent:         m.Parent,
		adjacentParent: m.AdjacentParent,
		createdMs:      m.CreatedMs,
		retention:      spec.retention,
		trimMs:         spec.trimMs,
		nextFloor:      m.NextFloor,
		res:            spec.res,
		commit:         spec.commit,
	}
	sh.log = opts.Logger.With().Str("component", "shard").Str("shard", m.ID).Logger()
	if m.End != nil {
		sh.end.Store(*m.End)
		sh.closedMs.Store(m.ClosedMs)
	}
	empty := []*segment.Segment{}
	sh.segs.Store(&empty)
	return sh
}

// openShard makes a shard and loads it at once: used for new shards, whose
// first segment must exist on disk before their metadata is committed.
func openShard(spec shardSpec, opts *Options) (*Shard, error) {
	sh := newShard(spec, opts)
	if err := sh.ensure(); err != nil {
		return nil, err
	}
	return sh, nil
}

// ensure loads a dormant shard: it creates the shard's directory when
// missing and recovers its segments (every segment but the last is sealed;
// the last is active and recovered while the shard is open). A failure is
// remembered and returned by every later call, unless it is transient
// (out of file descriptors): then the next call tries again.
func (sh *Shard) ensure() error {
	if sh.loaded.Load() {
		sh.touch()
		return nil
	}
	sh.res.admit()
	sh.loadMu.Lock()
	defer sh.loadMu.Unlock()
	if sh.loaded.Load() {
		sh.touch()
		return nil
	}
	if sh.loadErr != nil {
		return sh.loadErr
	}
	if err := sh.load(); err != nil {
		err = fmt.Errorf("open shard %s: %w", sh.id, err)
		if !transient(err) {
			sh.loadErr = err // damage or a format error: the same every time
		}
		return err
	}
	sh.touch()
	sh.loaded.Store(true)
	sh.res.loadedOne()
	return nil
}

// touch records a use on the residency clock, which decides which shards
// unload makes dormant first. It writes only when the clock has moved.
func (sh *Shard) touch() {
	if now := sh.res.clock.Load(); sh.lastUse.Load() != now {
		sh.lastUse.Store(now)
	}
}

// unload makes a loaded shard dormant again, so that it holds no mapping
// (see residency): it syncs what the fsync policy has not synced yet (a
// dormant shard is out of reach of the periodic syncer), lowers the
// reservation in the header to the next position, and retires its
// segments, which are unmapped once their last reader releases them. The
// next use loads them again, as after a restart, and goes on from the same
// next position. It gives up and returns false when the shard is in use
// (one of its locks is held), is already dormant, or has failed (a sticky
// shard keeps its state until the store is reopened). The caller holds the
// stream's read lock, so no reshard or delete runs meanwhile.
func (sh *Shard) unload() bool {
	for _, mu := range []*sync.Mutex{&sh.expireMu, &sh.loadMu, &sh.mu, &sh.syncMu, &sh.sealMu, &sh.prepMu} {
		if !mu.TryLock() {
			return false
		}
		defer mu.Unlock()
	}
	if !sh.loaded.Load() || sh.sticky.Load() != nil {
		return false
	}
	next := sh.next.Load()
	if a := sh.active; a != nil && !sh.Closed() && sh.opts.Fsync != FsyncNever && sh.durable.Load() < next {
		if err := a.Sync(); err != nil {
			sh.fail(fmt.Errorf("sync shard %s: %w", sh.id, err))
			return false
		}
		sh.durable.Store(next)
	}
	if a := sh.active; a != nil && !sh.Closed() {
		// The header keeps its durable reservation, and the next load
		// resumes at next below it, with no flush before its first append.
		sh.resume = &resumePoint{Base: a.Base(), Reserved: sh.reserved, Next: next}
	}
	sh.discardSpare()
	segs := *sh.segs.Load()
	empty := []*segment.Segment{}
	sh.segs.Store(&empty)
	sh.active = nil
	sh.loaded.Store(false)
	for _, s := range segs {
		s.Retire(false)
	}
	sh.log.Debug().Uint64("seq", next).Msg("shard idle: unloaded")
	return true
}

// transient reports whether err may go away by itself: the process or the
// system ran out of file descriptors or memory (a connection flood), the
// disk or quota is full, or a call was interrupted. A shard that failed to load for such a reason is
// loaded again on its next use.
func transient(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, syscall.EINTR, syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// load does ensure's work; nothing else touches the shard's segments
// before it returns.
func (sh *Shard) load() error {
	if err := mkdirSynced(sh.dir, sh.opts.fault); err != nil {
		return err
	}
	bases, err := segment.List(sh.dir, sh.log)
	if err != nil {
		return err
	}
	if bases, err = sh.dropUnfinishedRoll(bases); err != nil {
		return err
	}
	end, closed := sh.End()
	segs, err := sh.openSegments(bases, !closed)
	if err != nil {
		return err
	}
	if orphans := orphanSpares(segs); len(orphans) > 0 {
		// The last segment may be one of them, and the one before it was
		// opened sealed: open them all again once the orphans are gone.
		for _, s := range segs {
			_ = s.Close()
		}
		if bases, err = sh.removeOrphans(bases, orphans); err != nil {
			return err
		}
		if segs, err = sh.openSegments(bases, !closed); err != nil {
			return err
		}
	}
	next := sh.nextFloor
	if n := len(segs); n > 0 {
		// The last segment's reservation covers every position handed out
		// before a crash, including those of records that power loss took
		// from its tail: resume above all of them, unless a resume point
		// says exactly where this shard stopped (a clean shutdown, or an
		// unload in this process) and nothing has changed the segment since.
		last := segs[n-1]
		if p := sh.resume; p != nil && p.Base == last.Base() && p.Reserved == last.Reserved() &&
			last.CutBytes() == 0 && last.NextSeq() <= p.Next && p.Next <= p.Reserved {
			next = max(next, p.Next)
		} else {
			next = max(next, last.NextSeq(), last.Reserved())
		}
	}
	sh.resume = nil                     // used once: appends from here on move next and the reservation
	dirtyFrom := uint64(math.MaxUint64) // the first position not known to be synced
	if closed {
		next = end
	} else {
		if n := len(segs); n > 0 && segs[n-1].CutBytes() > 0 {
			// Recovery cut a torn or corrupt tail (power loss, a bad disk):
			// records acknowledged before the loss may have had positions
			// there. Skip every position the cut bytes could have held, in a
			// new segment whose file name records the jump, so no sequence
			// number is ever given to two different records.
			a := segs[n-1]
			gap := uint64(a.CutBytes()/segment.MinFrameBytes) + 1
			s, err := segment.Create(sh.dir, next+gap, next+gap, sh.opts.Segment)
			if err != nil {
				for _, s := range segs {
					_ = s.Close()
				}
				return err
			}
			if err := a.Seal(); err != nil {
				_ = s.Close()
				for _, s := range segs {
					_ = s.Close()
				}
				return err
			}
			sh.log.Warn().Uint64("seq", next).Uint64("base", s.Base()).Int64("bytes", a.CutBytes()).
				Msg("recovery cut a damaged tail; skipping the positions it may have held")
			segs = append(segs, s)
			next = s.Base()
		}
		// A shard never written may have no segment yet: the preparer or
		// its first append creates one (createFirstLocked), and reading it
		// creates nothing.
		if len(segs) > 0 {
			a := segs[len(segs)-1]
			// It was opened unsynced (segment.Open). Under FsyncAlways
			// readers see only durable records, so it is synced now; under
			// FsyncInterval the shard counts as dirty from its base, and
			// the next interval pass syncs it; FsyncNever leaves it to the
			// kernel.
			switch sh.opts.Fsync {
			case FsyncAlways:
				if err := a.Sync(); err != nil {
					for _, s := range segs {
						_ = s.Close()
					}
					return err
				}
			case FsyncInterval:
				dirtyFrom = a.Base()
			}
			sh.active = a
			sh.lastArrivalMs = a.LastTimeMs()
			sh.reserved = a.Reserved()
		}
	}
	sh.next.Store(next)
	sh.durable.Store(min(next, dirtyFrom))
	sh.segs.Store(&segs)
	sh.onFS.Store(sh.commit.fs.covers(sh.dir))
	return nil
}

// dropUnfinishedRoll removes the last segment file when it is the leftover
// of a roll that crashed before the segment was complete (see
// segment.Unfinished): it holds no record, so the shard goes on from the
// segment before it. Returns the bases left.
func (sh *Shard) dropUnfinishedRoll(bases []uint64) ([]uint64, error) {
	if len(bases) == 0 {
		return bases, nil
	}
	last := bases[len(bases)-1]
	unfinished, err := segment.Unfinished(sh.dir, last)
	if err != nil || !unfinished {
		return bases, err
	}
	if err := segment.Remove(sh.dir, last); err != nil {
		return bases, fmt.Errorf("drop unfinished roll: %w", err)
	}
	sh.log.Warn().Uint64("base", last).Msg("removed the empty segment file of an unfinished roll")
	return bases[:len(bases)-1], nil
}

// openSegments opens the segments with those bases, the last one for
// appending when active is true.
func (sh *Shard) openSegments(bases []uint64, active bool) ([]*segment.Segment, error) {
	segs := make([]*segment.Segment, 0, len(bases)+1)
	for i, base := range bases {
		s, err := segment.Open(sh.dir, base, active && i == len(bases)-1, sh.opts.Segment)
		if err != nil {
			for _, s := range segs {
				_ = s.Close()
			}
			return nil, err
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// orphanSpares returns the bases of the empty segments whose base lies
// below the end of the segment before them. No roll makes one (a rolled-to
// segment starts at or above the end of the one it follows). Builds whose
// prepareLocked did not check spare again under prepMu could leave one,
// when a second preparation replaced the first spare; readers looking for
// a position above its base found it empty and skipped the records the
// segment before it held there.
func orphanSpares(segs []*segment.Segment) []uint64 {
	var orphans []uint64
	var end uint64 // of the last segment kept
	for i, s := range segs {
		if i > 0 && s.NextSeq() == s.Base() && s.Base() < end {
			orphans = append(orphans, s.Base())
			continue
		}
		end = s.NextSeq()
	}
	return orphans
}

// removeOrphans removes the files of the orphan segments and returns the
// bases left.
func (sh *Shard) removeOrphans(bases, orphans []uint64) ([]uint64, error) {
	for _, base := range orphans {
		if err := segment.Remove(sh.dir, base); err != nil {
			return nil, fmt.Errorf("remove orphan segment: %w", err)
		}
		sh.log.Warn().Uint64("base", base).Msg("removed an empty segment inside the range of the one before it (left by an older build's background preparation)")
	}
	return slices.DeleteFunc(bases, func(b uint64) bool { return slices.Contains(orphans, b) }), nil
}

// Loaded reports whether the shard's segments are open (mapped): it has
// been used since the store opened or since it was last made dormant.
func (sh *Shard) Loaded() bool { return sh.loaded.Load() }

// Append assigns the next positions and the current arrival time to recs, in
// order, writes them, publishes them to readers and wakes tail waiters. It
// returns how many records were stored: all of them unless err is non-nil, in
// which case recs[:n] are stored and acknowledged and the rest are not.
//
// After Append returns the stored records survive kill -9; under FsyncAlways
// they also survive power loss. A write or sync failure is sticky: the shard
// refuses appends (ErrSticky) until the store is reopened. A failure to create
// the next segment (a full disk) is not sticky: later appends try again.
func (sh *Shard) Append(recs []Record) (n int, err error) {
	n, err = sh.appendVisible(recs)
	if n > 0 && sh.opts.Fsync == FsyncAlways {
		p := [1]pendingSync{{shard: sh, end: recs[n-1].Seq + 1}}
		sh.commit.wait(p[:])
		if p[0].err != nil {
			return 0, p[0].err
		}
	}
	return n, err
}

// appendVisible is Append without the FsyncAlways sync: the records are
// visible and survive kill -9, and the caller syncs (Stream.Put appends to
// every shard of a request first and then syncs them together).
func (sh *Shard) appendVisible(recs []Record) (n int, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if limit := sh.opts.MaxQueuedBytes; limit > 0 { // off by default: no counting then
		size := int64(0)
		for i := range recs {
			size += int64(len(recs[i].Data) + len(recs[i].PartitionKey))
		}
		if q := sh.pending.Add(size); q != size && q > limit {
			sh.pending.Add(-size)
			return 0, fmt.Errorf("shard %s: %w", sh.id, ErrBusy)
		}
		defer sh.pending.Add(-size)
	}
	for {
		if err := sh.ensure(); err != nil {
			return 0, err
		}
		sh.mu.Lock()
		if sh.loaded.Load() {
			break
		}
		sh.mu.Unlock() // unloaded meanwhile: load again
	}
	n, err = sh.appendLocked(recs)
	sh.mu.Unlock()
	if n > 0 && sh.opts.Fsync != FsyncAlways {
		sh.wake() // under FsyncAlways the sync that covers them wakes readers
	}
	return n, err
}

// appendLocked writes recs into the active segment, rolling as it fills.
// sh.mu must be held.
func (sh *Shard) appendLocked(recs []Record) (int, error) {
	if p := sh.sticky.Load(); p != nil {
		return 0, *p
	}
	if sh.Closed() {
		return 0, ErrShardClosed
	}
	if sh.active == nil {
		if err := sh.createFirstLocked(); err != nil {
			return 0, err
		}
	}
	now := sh.opts.Now().UnixMilli()
	if now < sh.lastArrivalMs {
		now = sh.lastArrivalMs
	}
	next := sh.next.Load()
	if err := sh.reserveLocked(next + uint64(len(recs))); err != nil {
		return 0, err
	}
	for i := range recs {
		recs[i].Seq = next + uint64(i)
		recs[i].ArrivalMs = now
	}
	done := 0
	for done < len(recs) {
		k, err := sh.active.Append(recs[done:])
		done += k
		if err != nil {
			if errors.Is(err, segment.ErrTooLarge) {
				return sh.publishLocked(recs[:done], now, fmt.Errorf("shard %s: %w", sh.id, ErrTooLarge))
			}
			if errors.Is(err, segment.ErrNoSpace) { // a full disk: not sticky, retried by the next append
				sh.log.Error().Err(err).Msg("cannot grow segment")
				return sh.publishLocked(recs[:done], now, fmt.Errorf("append to shard %s: %w", sh.id, err))
			}
			return sh.publishLocked(recs[:done], now, sh.fail(fmt.Errorf("append to shard %s: %w", sh.id, err)))
		}
		if done < len(recs) {
			if err := sh.rollLocked(); err != nil {
				return sh.publishLocked(recs[:done], now, err)
			}
			if err := sh.skipToLocked(recs[done:]); err != nil {
				return sh.publishLocked(recs[:done], now, err)
			}
		}
	}
	sh.prepareLocked()
	return sh.publishLocked(recs, now, nil)
}

// skipToLocked moves the positions of recs, the rest of an append, up to
// the base of the active segment when a roll left a gap before it, and
// makes sure they are reserved. sh.mu must be held.
func (sh *Shard) skipToLocked(recs []Record) error {
	base := sh.active.Base()
	if len(recs) == 0 || recs[0].Seq >= base {
		return nil
	}
	shift := base - recs[0].Seq
	for i := range recs {
		recs[i].Seq += shift
	}
	return sh.reserveLocked(recs[len(recs)-1].Seq + 1)
}

// createFirstLocked creates the first segment of a shard that has none (it
// was never written), at the next position. The first reservation rides on
// the header's fsync, so the append that made it needs no flush of its own.
// A failure (a full disk) is not sticky: the next append tries again.
// sh.mu must be held.
func (sh *Shard) createFirstLocked() error {
	next := sh.next.Load()
	s, err := segment.Create(sh.dir, next, next+reserveAhead, sh.opts.Segment)
	if err != nil {
		sh.log.Error().Err(err).Uint64("base", next).Msg("cannot create segment")
		return fmt.Errorf("append to shard %s: %w", sh.id, err)
	}
	sh.active = s
	sh.reserved = s.Reserved()
	segs := []*segment.Segment{s}
	sh.segs.Store(&segs)
	return nil
}

// reserveAhead is how many positions one reservation covers beyond the
// append that needs it: one header flush per 16 Mi records, and at most
// that many positions skipped after a crash.
const reserveAhead = 1 << 24

// reserveLocked makes sure positions below end are covered by a durable
// reservation before any of them is handed out, so that no position
// is ever given to two records, whatever a crash or power loss takes. A
// failure is sticky. sh.mu must be held.
func (sh *Shard) reserveLocked(end uint64) error {
	if end <= sh.reserved {
		return nil
	}
	limit := end + reserveAhead
	if err := sh.active.Reserve(limit); err != nil {
		return sh.fail(fmt.Errorf("shard %s: %w", sh.id, err))
	}
	sh.reserved = limit
	return nil
}

// publishLocked makes stored, the records of the current append that were
// written, visible. The next position only grows: a roll in the append may
// already have moved it past them.
func (sh *Shard) publishLocked(stored []Record, arrivalMs int64, err error) (int, error) {
	if n := len(stored); n > 0 {
		sh.next.Store(max(sh.next.Load(), stored[n-1].Seq+1))
		sh.lastArrivalMs = arrivalMs
	}
	return len(stored), err
}

// fail records err as the shard's sticky failure and returns it wrapped in
// ErrSticky.
func (sh *Shard) fail(err error) error {
	wrapped := fmt.Errorf("%w: %w", ErrSticky, err)
	sh.sticky.CompareAndSwap(nil, &wrapped)
	sh.log.Error().Err(err).Msg("shard refuses appends until reopened")
	return wrapped
}

// rollLocked starts the next segment and seals the full one in the
// background, so that appends do not wait for its data to reach the disk.
// The next segment is the one prepared while the active one filled (see
// prepareLocked), whose base may lie above the active one's end; only
// when there is none does the roll create it, at the end. A failed create
// (a full disk) leaves the full segment active, so the next append
// retries the roll; a failed seal is sticky. sh.mu must be held.
func (sh *Shard) rollLocked() error {
	old := sh.active
	s := sh.takeSpareLocked(old.NextSeq())
	if s == nil {
		var err error
		if s, err = segment.Create(sh.dir, old.NextSeq(), sh.reserved, sh.opts.Segment); err != nil {
			sh.log.Error().Err(err).Uint64("base", old.NextSeq()).Msg("cannot create segment")
			return fmt.Errorf("roll shard %s: %w", sh.id, err)
		}
	}
	// Taken before the new segment and position are published: a
	// group-commit sync that sees either then waits for the old segment's
	// seal, which makes its last records durable, instead of syncing only
	// the new segment and marking them durable unsynced.
	sh.sealMu.Lock() // released by the sealer
	sh.active = s
	sh.reserved = max(sh.reserved, s.Reserved())
	if s.Base() > sh.next.Load() {
		// The positions below the new segment's base are skipped: the next
		// record gets the base, whoever rolled (an append, or the retention
		// pass rolling by age).
		sh.next.Store(s.Base())
	}
	cur := *sh.segs.Load()
	segs := make([]*segment.Segment, len(cur), len(cur)+1)
	copy(segs, cur)
	segs = append(segs, s)
	sh.segs.Store(&segs)
	go func() {
		defer sh.sealMu.Unlock()
		if err := old.Seal(); err != nil {
			sh.fail(fmt.Errorf("seal segment %d of shard %s: %w", old.Base(), sh.id, err))
		}
	}()
	sh.log.Debug().Uint64("base", s.Base()).Msg("rolled segment")
	return nil
}

// spareAt is how full the active segment is (in eighths) when the next
// one starts being prepared.
const spareAt = 7

// prepareLocked creates the segment that will follow the active one, once
// that is spareAt/8 full, on its own goroutine: creating a segment takes
// an fsync of the new file and one of the directory, which under a heavy
// write load took up to 115 ms, and a roll that waits for them stalls
// every append to the shard. The roll then only switches segments.
//
// The new segment is complete and named before the roll, so its base must
// be chosen now, above every position the active segment can still take:
// its remaining bytes hold at most one record per MinFrameBytes. The
// positions between the active segment's end and that base are never
// handed out; readers step over them, as over the gap recovery leaves
// after a cut. The file gets all its blocks at once: a shard that filled
// 7/8 of a segment is busy, and growing the file later is another
// journal operation under sh.mu. sh.mu must be held.
func (sh *Shard) prepareLocked() {
	a := sh.active
	limit := sh.opts.Segment.MaxSegmentBytes
	if a == nil || a.Size() < limit/8*spareAt || sh.spare.Load() != nil || !sh.prepMu.TryLock() {
		return
	}
	// Checked again under prepMu, which every change of spare holds: a
	// preparation may have stored its segment and released the lock
	// between the check above and TryLock, and a second one would
	// overwrite it, leaving an empty file inside the active segment's
	// range that hid the records above its base after a restart.
	if sh.spare.Load() != nil {
		sh.prepMu.Unlock()
		return
	}
	base := a.NextSeq() + uint64(max(limit-a.Size(), 0)/segment.MinFrameBytes) + 1
	opts := sh.opts.Segment
	opts.InitialBytes = limit
	go func() {
		defer sh.prepMu.Unlock()
		s, err := segment.Create(sh.dir, base, base+reserveAhead, opts)
		if err != nil {
			sh.log.Warn().Err(err).Msg("cannot prepare the next segment; the roll will create it")
			return
		}
		sh.spare.Store(s)
	}()
}

// takeSpareLocked returns the prepared segment, waiting for one being
// prepared, or nil when there is none or it cannot follow a segment that
// ends at end (it was prepared for a segment that has since been
// replaced). sh.mu must be held.
func (sh *Shard) takeSpareLocked(end uint64) *segment.Segment {
	sh.prepMu.Lock()
	defer sh.prepMu.Unlock()
	s := sh.spare.Swap(nil)
	if s != nil && s.Base() < end {
		sh.log.Error().Uint64("base", s.Base()).Uint64("end", end).Msg("BUG: prepared segment below the active one's end; discarding it")
		s.Retire(true)
		return nil
	}
	return s
}

// dropSpareLocked waits for a segment being prepared and removes it, or
// the one ready: the shard is being closed, unloaded or deleted. sh.mu
// must be held.
func (sh *Shard) dropSpareLocked() {
	sh.prepMu.Lock()
	defer sh.prepMu.Unlock()
	sh.discardSpare()
}

// discardSpare removes the prepared segment, if one is ready; a crash
// before that leaves it as the shard's empty last segment, which is as
// good. prepMu must be held, so that none is being prepared.
func (sh *Shard) discardSpare() {
	if s := sh.spare.Swap(nil); s != nil {
		s.Retire(true)
	}
}

// waitSealed returns once no rolled segment is being sealed.
func (sh *Shard) waitSealed() {
	// An empty critical section: the sealer holds sealMu until it is done.
	sh.sealMu.Lock()
	sh.sealMu.Unlock()
}

// syncTo returns once every position below end is synced: whoever holds
// syncMu syncs everything published so far, and a caller queued behind it
// may find its records already durable. Appends do not call it directly:
// they wait for the store's group commit (committer), which calls it once
// per dirty shard per round.
func (sh *Shard) syncTo(end uint64) error {
	sh.syncMu.Lock()
	defer sh.syncMu.Unlock()
	if sh.durable.Load() >= end {
		return nil
	}
	return sh.syncLocked()
}

// syncLocked syncs the active segment. sh.syncMu must be held.
func (sh *Shard) syncLocked() error {
	if p := sh.sticky.Load(); p != nil {
		return *p
	}
	target := sh.next.Load()
	segs := *sh.segs.Load()
	if len(segs) == 0 {
		return nil
	}
	start := time.Now()
	sh.waitSealed() // records of just-rolled segments are durable once sealed
	if p := sh.sticky.Load(); p != nil {
		return *p
	}
	if err := segs[len(segs)-1].Sync(); err != nil {
		return sh.fail(fmt.Errorf("sync shard %s: %w", sh.id, err))
	}
	if took := time.Since(start); took > time.Second {
		sh.log.Warn().Dur("took", took).Msg("slow sync")
	}
	sh.markDurable(target)
	return nil
}

// markDurable moves the durable mark up to target, once a sync covered
// every record below it. sh.syncMu must be held.
func (sh *Shard) markDurable(target uint64) {
	if sh.durable.Load() < target {
		sh.durable.Store(target)
		if sh.opts.Fsync == FsyncAlways {
			sh.wake() // readers wait for durability, not for the append
		}
	}
}

// syncPoint is a shard's part of a sync of the whole filesystem: its
// active segment, how far that segment's data reached, and the position
// below which the sync makes every record durable.
type syncPoint struct {
	sh     *Shard
	seg    *segment.Segment
	end    int64
	target uint64
}

// syncPoint takes sh's sync point, as syncLocked would sync it: after a
// rolled segment's seal, from the active segment. ok is false when there
// is nothing to sync, or sh has failed. sh.syncMu must be held.
func (sh *Shard) syncPoint() (p syncPoint, ok bool) {
	target := sh.next.Load()
	segs := *sh.segs.Load()
	if sh.durable.Load() >= target || len(segs) == 0 || sh.sticky.Load() != nil {
		return p, false
	}
	sh.waitSealed() // records of just-rolled segments are durable once sealed
	if sh.sticky.Load() != nil {
		return p, false
	}
	seg := segs[len(segs)-1]
	end, err := seg.SyncPoint()
	if err != nil {
		sh.fail(fmt.Errorf("sync shard %s: %w", sh.id, err))
		return p, false
	}
	return syncPoint{sh: sh, seg: seg, end: end, target: target}, true
}

// Sync forces every record appended so far to stable storage.
func (sh *Shard) Sync() error {
	if !sh.loaded.Load() {
		return nil // a dormant shard has nothing unsynced
	}
	return sh.syncTo(sh.next.Load())
}

// wake closes the current tail channel, if anyone asked for one.
func (sh *Shard) wake() {
	sh.waitMu.Lock()
	if sh.waitCh != nil {
		close(sh.waitCh)
		sh.waitCh = nil
	}
	sh.waitMu.Unlock()
}

// TailChanged returns a channel that is closed by the next append (or when
// the shard closes). Check Tail after taking the channel to avoid missing an
// append that happened just before.
func (sh *Shard) TailChanged() <-chan struct{} {
	sh.waitMu.Lock()
	defer sh.waitMu.Unlock()
	if sh.waitCh == nil {
		sh.waitCh = make(chan struct{})
	}
	return sh.waitCh
}

// horizonMs is the arrival time below which records have expired: the
// retention period back from now, never earlier than the trim horizon, so
// that raising the retention does not bring expired records back.
func (sh *Shard) horizonMs() int64 {
	return max(sh.opts.Now().Add(-time.Duration(sh.retention.Load())).UnixMilli(), sh.trimMs.Load())
}

// ReadResult is what Read returns. Records alias segment memory that stays
// mapped until Release; encode them before releasing.
type ReadResult struct {
	// Records are the records read, oldest first.
	Records []Record
	// Next is the position to continue from.
	Next uint64
	// MillisBehind is how far the newest returned record is from the shard's
	// tip, in ms; 0 when the reader has caught up.
	MillisBehind int64
	// AtEnd is true when the shard is closed and Next is past its last record.
	AtEnd bool

	held []*segment.Segment
}

// Release drops the segment references the records depend on and resets the
// result for reuse.
func (r *ReadResult) Release() {
	for _, s := range r.held {
		s.Release()
	}
	clear(r.held)
	r.held = r.held[:0]
	clear(r.Records)
	r.Records = r.Records[:0]
}

// TrimHorizon returns the position of the oldest record still retained (the
// tail when there is none): SeekTime clamps every time to the retention
// horizon, so seeking to the epoch finds it.
func (sh *Shard) TrimHorizon() (uint64, error) {
	return sh.SeekTime(time.UnixMilli(0))
}

// readEnd is the position after the last readable record: the tail, or
// under FsyncAlways the durable mark, which never waits for a running sync.
func (sh *Shard) readEnd() uint64 {
	if end, closed := sh.End(); closed {
		return end
	}
	if sh.opts.Fsync == FsyncAlways {
		return sh.durable.Load()
	}
	return sh.next.Load()
}

// SeekTime returns the position of the first retained record that arrived at
// or after t, or the tail when there is none.
func (sh *Shard) SeekTime(t time.Time) (uint64, error) {
	ms := t.UnixMilli()
	if h := sh.horizonMs(); ms < h {
		ms = h
	}
	for {
		if err := sh.ensure(); err != nil {
			return 0, err
		}
		segs := *sh.segs.Load()
		retry := len(segs) == 0 && !sh.loaded.Load() // unloaded meanwhile
		if retry {
			continue
		}
		for _, s := range segs {
			if !s.Acquire() {
				retry = true
				break
			}
			if s.NextSeq() == s.Base() || s.LastTimeMs() < ms {
				s.Release()
				continue
			}
			seq, ok, err := s.SeekTime(ms)
			s.Release()
			if err != nil {
				return 0, fmt.Errorf("seek shard %s to %d: %w", sh.id, ms, err)
			}
			if ok {
				return seq, nil
			}
		}
		if !retry {
			return sh.readEnd(), nil
		}
	}
}

// Read reads records from position pos on, at most maxRecords of them and at
// most maxBytes of data (at least one record when any is there), skipping
// records past retention. The result must be Released once its records have
// been encoded. Read never blocks on appends.
func (sh *Shard) Read(pos uint64, maxRecords, maxBytes int, res *ReadResult) error {
	res.Release()
	horizon := sh.horizonMs()
	for {
		if err := sh.ensure(); err != nil {
			return err
		}
		limit := sh.readEnd() // before the list: the list holds everything below it
		segs := *sh.segs.Load()
		if len(segs) == 0 && !sh.loaded.Load() {
			continue // unloaded meanwhile: load again
		}
		retried := false
		// The first segment that may hold pos: the last with base <= pos.
		i := sort.Search(len(segs), func(i int) bool { return segs[i].Base() > pos }) - 1
		if i < 0 {
			i = 0
		}
		next := pos
		bytes := 0
		for ; i < len(segs) && len(res.Records) < maxRecords && next < limit; i++ {
			s := segs[i]
			if !s.Acquire() {
				retried = true
				break
			}
			// A sealed segment whose last records are unreadable still
			// holds the positions up to the next segment's base.
			tail := s.TailDamaged() && (i+1 == len(segs) || next < segs[i+1].Base())
			if s.NextSeq() <= next && !tail || s.LastTimeMs() < horizon {
				if s.NextSeq() > next {
					next = s.NextSeq() // wholly expired
				}
				s.Release()
				continue
			}
			if s.FirstTimeMs() < horizon {
				seq, ok, err := s.SeekTime(horizon)
				if err != nil {
					s.Release()
					res.Release()
					return fmt.Errorf("read shard %s: %w", sh.id, err)
				}
				if ok && seq > next {
					next = seq
				}
			}
			if next < s.Base() {
				next = s.Base()
			}
			before := len(res.Records)
			recs, err := s.Read(next, maxRecords-before, maxBytes-bytes, res.Records)
			var corrupt *segment.CorruptError
			if err != nil && len(recs) == 0 && errors.As(err, &corrupt) {
				s.Release()
				res.Release()
				return fmt.Errorf("read shard %s at %d: %w", sh.id, next, sh.corruptError(segs, i, next, corrupt, err))
			}
			if err != nil && (len(recs) == 0 || corrupt == nil) {
				s.Release()
				res.Release()
				return fmt.Errorf("read shard %s at %d: %w", sh.id, next, err)
			}
			for k := len(recs); k > before && recs[k-1].Seq >= limit; k-- {
				recs[k-1] = Record{} // appended but not yet readable (not durable)
				recs = recs[:k-1]
			}
			added := 0
			for _, r := range recs[before:] {
				added += len(r.Data)
			}
			if before > 0 && added > maxBytes-bytes {
				// The segment always returns one record; past the first
				// segment that one may not fit: leave it for the next read.
				clear(recs[before:])
				recs, added = recs[:before], 0
			}
			res.Records = recs
			res.held = append(res.held, s)
			bytes += added
			if len(recs) > before {
				next = recs[len(recs)-1].Seq + 1
			}
			if err != nil {
				// The records before a corrupt frame passed their checks:
				// return them and stop at the damage, which the next read
				// reports as an error.
				sh.log.Error().Err(err).Uint64("seq", next).Msg("corrupt record; returning the records before it")
				break
			}
			if next < s.NextSeq() || tail {
				// A limit or damage stopped the read inside this segment:
				// going on to the next one would skip the rest of it.
				break
			}
		}
		if retried {
			res.Release()
			continue
		}
		res.Next = next
		end := sh.readEnd()
		if res.Next < end && len(res.Records) > 0 {
			behind := sh.opts.Now().UnixMilli() - res.Records[len(res.Records)-1].ArrivalMs
			res.MillisBehind = max(behind, 1)
		} else {
			res.MillisBehind = 0
		}
		_, closed := sh.End()
		res.AtEnd = closed && res.Next >= end
		return nil
	}
}

// closeLocked closes the shard for resharding: no append succeeds afterwards
// and readers reaching End see AtEnd. sh.mu must be held.
func (sh *Shard) closeLocked(nowMs int64) error {
	if sh.Closed() {
		return ErrShardClosed
	}
	sh.dropSpareLocked()
	sh.syncMu.Lock()
	var err error
	if sh.active != nil && !sh.active.Sealed() { // nil: never written
		err = sh.active.Seal()
	}
	sh.syncMu.Unlock()
	// Closed in memory whatever the seal did: the metadata already says so
	// (the caller committed it), and an open parent would route records
	// beside its children. A failed seal is still sticky.
	sh.end.Store(sh.next.Load())
	sh.closedMs.Store(nowMs)
	sh.wake()
	if err != nil {
		return sh.fail(fmt.Errorf("close shard %s: %w", sh.id, err))
	}
	return nil
}

// expire retires sealed segments whose newest record arrived before the
// retention horizon, oldest first, and rolls the active segment once its
// first record is older than MaxSegmentAge (or than the horizon) so that it
// can expire in turn. It returns the number of segments retired.
func (sh *Shard) expire() (int, error) {
	if !sh.loaded.Load() {
		return 0, nil
	}
	sh.expireMu.Lock()
	defer sh.expireMu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	horizon := sh.horizonMs()
	now := sh.opts.Now()
	if a := sh.active; a != nil && !sh.Closed() && a.NextSeq() > a.Base() {
		first := time.UnixMilli(a.FirstTimeMs())
		if now.Sub(first) >= sh.opts.MaxSegmentAge || a.LastTimeMs() < horizon {
			if err := sh.rollLocked(); err != nil {
				return 0, err
			}
			sh.waitSealed() // so that it can expire in this pass
		}
	}
	cur := *sh.segs.Load()
	n := 0
	for n < len(cur) && cur[n].Sealed() && cur[n].LastTimeMs() < horizon {
		n++
	}
	if n == 0 {
		return 0, nil
	}
	segs := append([]*segment.Segment(nil), cur[n:]...)
	sh.segs.Store(&segs)
	for _, s := range cur[:n] {
		sh.log.Info().Uint64("base", s.Base()).Int64("bytes", s.Size()).Msg("retired expired segment")
		s.Retire(true)
	}
	return n, nil
}

// compress rewrites sealed segments into compressed blocks when the store is
// configured with a codec, oldest first. Readers keep reading throughout;
// appends are not held up.
func (sh *Shard) compress() (int, error) {
	if sh.opts.Segment.Compression == segment.None || !sh.loaded.Load() {
		return 0, nil
	}
	sh.expireMu.Lock()
	defer sh.expireMu.Unlock()
	n := 0
	for _, s := range *sh.segs.Load() {
		if !s.Sealed() || s.Compressed() || !s.Acquire() {
			continue
		}
		err := s.Compress()
		s.Release()
		if err != nil {
			return n, fmt.Errorf("compress shard %s: %w", sh.id, err)
		}
		n++
	}
	return n, nil
}

// empty reports whether the shard holds no segments (all expired). For a
// dormant shard it looks at the directory without opening anything.
func (sh *Shard) empty() bool {
	if sh.loaded.Load() {
		return len(*sh.segs.Load()) == 0
	}
	bases, _ := segment.Bases(sh.dir)
	return len(bases) == 0
}

// mayHaveExpired reports, for a dormant shard, whether loading it for the
// retention pass could free anything, from the header of its oldest segment
// alone (segments expire oldest first): the newest arrival time a sealed
// segment records, or else its creation time, which no record in it
// precedes. The active segment counts too, so a shard written once and then
// left alone expires like any other. A false answer is exact for sealed
// segments and safe for the rest: when in doubt the shard is loaded once,
// and a loaded shard is judged by its records.
func (sh *Shard) mayHaveExpired(horizonMs int64) bool {
	// Not segment.List: it tidies the directory, and the shard may be
	// loading (and rolling) concurrently.
	bases, err := segment.Bases(sh.dir)
	if err != nil || len(bases) == 0 {
		return false
	}
	info, err := segment.Stat(sh.dir, bases[0])
	if err != nil {
		return true // let loading report the damage
	}
	if info.LastMs != 0 {
		return info.LastMs < horizonMs
	}
	return info.Created.UnixMilli() < horizonMs
}

// shutdown closes every segment. No reader or appender may be active.
func (sh *Shard) shutdown() error {
	sh.loadMu.Lock()
	defer sh.loadMu.Unlock()
	if !sh.loaded.Load() {
		return nil // a dormant shard keeps its resume point, if any
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.waitSealed()
	sh.dropSpareLocked()
	var first error
	sh.resume = nil
	if a := sh.active; a != nil && !sh.Closed() && sh.sticky.Load() == nil {
		// Nothing more is handed out: the next start resumes right after
		// the last position (the store's resume file), and the header's
		// durable reservation stays for its appends.
		sh.resume = &resumePoint{Base: a.Base(), Reserved: sh.reserved, Next: sh.next.Load()}
	}
	for _, s := range *sh.segs.Load() {
		if err := s.Close(); err != nil && first == nil {
			first = fmt.Errorf("close shard %s: %w", sh.id, err)
		}
	}
	empty := []*segment.Segment{}
	sh.segs.Store(&empty)
	return first
}

// retireAll empties the segment list and returns what it held, for the
// caller to retire. Used when the stream is deleted.
func (sh *Shard) retireAll() []*segment.Segment {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.waitSealed()
	sh.dropSpareLocked()
	old := *sh.segs.Load()
	empty := []*segment.Segment{}
	sh.segs.Store(&empty)
	sh.active = nil
	if !sh.Closed() {
		sh.closedMs.Store(sh.opts.Now().UnixMilli())
		sh.end.Store(sh.next.Load())
	}
	sh.sticky.CompareAndSwap(nil, &errDeleted)
	return old
}

var errDeleted = fmt.Errorf("%w: deleted", ErrStreamNotFound)
