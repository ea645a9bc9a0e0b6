package shard

import (
	"fmt"
	"sync"
	"time"

	"github.com/shardlog/shardlog/segment"
)

// preparer creates the first segment of new shards in the background. A
// shard that was never written has no segment, and its first append would
// create one under the shard's lock: a file built and synced under a
// temporary name, renamed, and its directory synced (about 1 ms on a local
// disk, several under load). CreateStream and reshards hand their new
// shards to the preparer instead, so a producer's first record to a fresh
// shard costs what it costs on a shard written before: loading the
// segment. The shards of one stream are prepared in batches of up to
// prepBatch, holding their loadMu, whose files are made durable by two
// syncfs calls in all (segment.CreateBlanks): three journal commits per
// shard, in the background, would stall the foreground's metadata
// operations (a CreateStream's directories) behind them. An append that
// comes first creates its segment itself, as before, and the preparer
// then skips that shard; one that comes during its shard's batch waits
// for the batch.
type preparer struct {
	store *Store
	// fs syncs the data directory's filesystem for the batches, through a
	// descriptor of its own: syncfs reports a writeback error once per
	// open file, and the commit rounds' descriptor must see every one.
	// nil where syncfs does not report errors; each file is synced then.
	fs   *fsSyncer
	kick chan struct{} // work arrived
	done chan struct{} // closed by stop

	mu      sync.Mutex
	idle    *sync.Cond // signalled when the queue drains
	queue   []prepItem
	lastAdd time.Time
	busy    bool // a batch is being prepared
	stopped bool
}

// prepBatch is the most shards one preparation batch covers: it bounds how
// long an append to one of them may wait for the batch. Measured here with
// an append to the last shard of a batch just started: 3.7-4.9 ms at p50
// with 16 (9-54 ms at most), 14-27 ms with 64; the two syncfs calls per
// batch cost little beside that.
const prepBatch = 16

// prepQuiet is how long the preparer waits after new shards arrive before
// it starts, and again after more arrive: a script creating many streams
// one after the other would otherwise see each CreateStream's syncs queue
// behind the journal commits of the previous streams' preparation.
const prepQuiet = 100 * time.Millisecond

// prepItem is a new shard and its stream.
type prepItem struct {
	st *Stream
	sh *Shard
}

func newPreparer(s *Store) *preparer {
	p := &preparer{
		store: s,
		fs:    openFSSyncer(s.dir, func(string) error { return nil }),
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	p.idle = sync.NewCond(&p.mu)
	return p
}

// add queues new shards of st for preparation.
func (p *preparer) add(st *Stream, shards []*Shard) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	for _, sh := range shards {
		p.queue = append(p.queue, prepItem{st, sh})
	}
	p.lastAdd = time.Now()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run prepares queued shards, once no more have arrived for prepQuiet,
// until stop is called; then it releases the syncer.
func (p *preparer) run() {
	defer p.fs.close()
	for {
		select {
		case <-p.kick:
		case <-p.done:
			return
		}
		for {
			p.mu.Lock()
			wait := prepQuiet - time.Since(p.lastAdd)
			p.mu.Unlock()
			if wait <= 0 {
				break
			}
			select {
			case <-time.After(wait):
			case <-p.done:
				return
			}
		}
		for p.next() {
		}
	}
}

// next prepares the next batch: up to prepBatch queued shards of one
// stream. It returns false when the queue is empty or the preparer
// stopped.
func (p *preparer) next() bool {
	p.mu.Lock()
	if len(p.queue) == 0 || p.stopped {
		p.idle.Broadcast()
		p.mu.Unlock()
		return false
	}
	st := p.queue[0].st
	var batch []*Shard
	for len(p.queue) > 0 && len(batch) < prepBatch && p.queue[0].st == st {
		batch = append(batch, p.queue[0].sh)
		p.queue[0] = prepItem{}
		p.queue = p.queue[1:]
	}
	p.busy = true
	p.mu.Unlock()

	p.prepare(st, batch)

	p.mu.Lock()
	p.busy = false
	p.mu.Unlock()
	return true
}

// stop makes run return after the batch being prepared, and drops the
// queue: those shards' first appends create their segments.
func (p *preparer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		p.queue = nil
		close(p.done)
		p.idle.Broadcast()
	}
}

// wait returns once no shard is queued or being prepared, or the preparer
// is stopped.
func (p *preparer) wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for (len(p.queue) > 0 || p.busy) && !p.stopped {
		p.idle.Wait()
	}
}

// prepare creates the first segment of each shard of st in shards that has
// none. A loaded shard gets it as its first append would make it
// (createFirstLocked). The dormant ones get theirs on disk in one batch and
// stay dormant, each with a resume point at its first position, so that
// its load goes on from there without another header flush; their loadMu
// is held through the batch, so a load waits for it rather than seeing a
// temporary file. A stream being deleted, and a shard that is closed, has
// failed or was written meanwhile, are left alone. Failures are logged:
// the first appends then create the segments.
func (p *preparer) prepare(st *Stream, shards []*Shard) {
	st.mu.RLock() // no reshard or delete meanwhile
	defer st.mu.RUnlock()
	if st.deleting.Load() {
		return
	}
	var blanks []segment.Blank
	var dormant []*Shard
	defer func() {
		for _, sh := range dormant {
			sh.loadMu.Unlock()
		}
	}()
	syncAll := p.fs.sync
	for _, sh := range shards {
		if sh.Closed() {
			continue
		}
		sh.loadMu.Lock()
		if sh.loaded.Load() {
			err := sh.createFirst()
			sh.loadMu.Unlock()
			if err != nil {
				sh.log.Warn().Err(err).Msg("cannot prepare the first segment; the first append will create it")
			}
			continue
		}
		if ok, err := sh.blank(); !ok {
			sh.loadMu.Unlock()
			if err != nil {
				sh.log.Warn().Err(err).Msg("cannot prepare the first segment; the first append will create it")
			}
			continue
		}
		if !p.fs.covers(sh.dir) {
			syncAll = nil
		}
		dormant = append(dormant, sh)
		blanks = append(blanks, segment.Blank{Dir: sh.dir, Base: sh.nextFloor, Reserve: sh.nextFloor + reserveAhead})
	}
	if len(blanks) == 0 {
		return
	}
	if p.fs == nil {
		syncAll = nil
	}
	if err := segment.CreateBlanks(blanks, p.store.opts.Segment, syncAll); err != nil {
		p.store.log.Warn().Err(err).Str("stream", st.name).Int("shards", len(blanks)).
			Msg("cannot prepare first segments; the first appends will create them")
		return
	}
	for i, sh := range dormant {
		b := blanks[i]
		sh.resume = &resumePoint{Base: b.Base, Reserved: b.Reserve, Next: b.Base}
	}
}

// createFirst creates the first segment of a loaded shard that has none.
// loadMu must be held.
func (sh *Shard) createFirst() error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.active != nil || sh.sticky.Load() != nil || len(*sh.segs.Load()) > 0 {
		return nil
	}
	return sh.createFirstLocked()
}

// blank reports whether a dormant shard is one whose first segment the
// preparer should create: it never failed to load, has no resume point
// (one written and unloaded has) and no segment file; its directory is
// made if missing. loadMu must be held.
func (sh *Shard) blank() (bool, error) {
	if sh.loadErr != nil || sh.resume != nil {
		return false, nil
	}
	if err := mkdirSynced(sh.dir, sh.opts.fault); err != nil {
		return false, fmt.Errorf("prepare shard %s: %w", sh.id, err)
	}
	bases, err := segment.Bases(sh.dir)
	if err != nil {
		return false, fmt.Errorf("prepare shard %s: %w", sh.id, err)
	}
	return len(bases) == 0, nil
}
