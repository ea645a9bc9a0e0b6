package shard

import (
	"errors"
	"fmt"
	"io/fs"
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
// prepBatch, whose files are made durable by two syncfs calls in all
// (segment.Blank): three journal commits per shard, in the background,
// would stall the foreground's metadata operations (a CreateStream's
// directories) behind them. An append that comes first creates its
// segment itself, as before, and the preparer then skips that shard.
type preparer struct {
	store *Store
	// fs syncs the data directory's filesystem for the batches, through a
	// descriptor of its own: syncfs reports a writeback error once per
	// open file, and the commit rounds' descriptor must see every one.
	// nil where syncfs does not report errors; each file is synced then.
	fs   *fsSyncer
	kick chan struct{} // work arrived

	mu      sync.Mutex
	idle    *sync.Cond // signalled when the queue drains
	queue   []prepItem
	lastAdd time.Time
	busy    bool // a batch is being prepared
	stopped bool
}

// prepBatch is the most shards one preparation batch covers. An append
// that races the batch of its shard waits at most for one draft or for the
// publication's sync, or creates its segment itself. Measured here with an
// append to the last shard of a batch just started, 20 streams a run, 3
// runs: p50 0.5-3.7 ms, at most 6-12 ms with 16; p50 3.6-4.2 ms with 64.
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
// until the store stops; then it releases the syncer.
func (p *preparer) run() {
	defer p.fs.close()
	for {
		select {
		case <-p.kick:
		case <-p.store.stop:
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
			case <-p.store.stop:
				return
			}
		}
		for p.next() {
		}
	}
}

// next prepares the next batch: up to prepBatch queued shards of one
// stream, the one queued last. The newest stream is the likeliest to be
// written next, and a backlog of older ones (a script that created
// thousands of shards) would otherwise hold it back for as long as the
// backlog takes: at 100,000 queued shards, more than 10 s. It returns
// false when the queue is empty or the preparer stopped.
func (p *preparer) next() bool {
	p.mu.Lock()
	if len(p.queue) == 0 || p.stopped {
		p.idle.Broadcast()
		p.mu.Unlock()
		return false
	}
	st := p.queue[len(p.queue)-1].st
	var batch []*Shard
	for n := len(p.queue); n > 0 && len(batch) < prepBatch && p.queue[n-1].st == st; n-- {
		batch = append(batch, p.queue[n-1].sh)
		p.queue[n-1] = prepItem{}
		p.queue = p.queue[:n-1]
	}
	p.busy = true
	p.mu.Unlock()

	p.prepare(st, batch)

	p.mu.Lock()
	p.busy = false
	p.mu.Unlock()
	return true
}

// stop drops the queue, so that run returns after the batch being
// prepared (the store's stop channel ends its waits): those shards' first
// appends create their segments.
func (p *preparer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	p.queue = nil
	p.idle.Broadcast()
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
// (createFirstLocked). The dormant ones get theirs on disk and stay
// dormant, each with a resume point at its first position, so that its
// load goes on from there without another header flush: each is drafted
// under its loadMu; the drafts are synced together; each still dormant
// and unwritten is published under its loadMu, which is then held until
// the names are synced too, so no append can go to a segment whose name
// power loss could take. An append that comes meanwhile waits at most for
// one draft or for that last sync; a load between the steps removes the
// shard's draft (List) and the preparer leaves that shard alone. A stream
// being deleted, and a shard that is closed or has failed, are left
// alone too. Failures are logged: the first appends then create the
// segments.
func (p *preparer) prepare(st *Stream, shards []*Shard) {
	st.mu.RLock() // no reshard or delete meanwhile
	defer st.mu.RUnlock()
	if st.deleting.Load() {
		return
	}
	opts := p.store.opts.Segment
	whole := p.fs != nil // one syncfs for the batch, not a sync per file
	var drafts []prepDraft
	for _, sh := range shards {
		if sh.Closed() {
			continue
		}
		d, err := p.draft(sh, opts)
		if err != nil {
			sh.log.Warn().Err(err).Msg("cannot prepare the first segment; the first append will create it")
		}
		if d != nil {
			drafts = append(drafts, *d)
			whole = whole && p.fs.covers(sh.dir)
		}
	}
	if len(drafts) == 0 {
		return
	}
	if err := p.sync(whole, drafts, "create-fsync", segment.Blank.SyncDraft); err != nil {
		p.fail(st, drafts, err)
		return
	}
	var named []prepDraft
	defer func() {
		for _, d := range named {
			d.sh.loadMu.Unlock()
		}
	}()
	for _, d := range drafts {
		d.sh.loadMu.Lock()
		ok, err := d.sh.blank()
		published := false
		if ok {
			if published, err = d.b.Publish(opts); err != nil {
				_ = d.b.Discard()
			}
		}
		if !published {
			d.sh.loadMu.Unlock()
			if err != nil {
				d.sh.log.Warn().Err(err).Msg("cannot prepare the first segment; the first append will create it")
			}
			continue
		}
		named = append(named, d)
	}
	if len(named) == 0 {
		return
	}
	if err := p.sync(whole, named, "create-dirsync", segment.Blank.SyncName); err != nil {
		for _, d := range named {
			_ = d.b.Discard() // the name may not be durable: no append may use it
		}
		p.warn(st, len(named), err)
		return
	}
	for _, d := range named {
		d.sh.resume = &resumePoint{Base: d.b.Base, Reserved: d.b.Reserve, Next: d.b.Base}
	}
}

// prepDraft is a dormant shard and its drafted first segment.
type prepDraft struct {
	sh *Shard
	b  segment.Blank
}

// draft drafts the first segment of sh under its loadMu, or creates it at
// once when sh is loaded. It returns nil when there is no draft.
func (p *preparer) draft(sh *Shard, opts segment.Options) (*prepDraft, error) {
	sh.loadMu.Lock()
	defer sh.loadMu.Unlock()
	if sh.loaded.Load() {
		return nil, sh.createFirst()
	}
	if ok, err := sh.blank(); !ok {
		return nil, err
	}
	b := segment.Blank{Dir: sh.dir, Base: sh.nextFloor, Reserve: sh.nextFloor + reserveAhead}
	if err := b.Draft(opts); err != nil {
		return nil, fmt.Errorf("prepare shard %s: %w", sh.id, err)
	}
	return &prepDraft{sh, b}, nil
}

// sync makes the drafts' files (or names) durable: one syncfs when whole,
// else one (a sync per draft, where one that a load removed is skipped).
// op is the fault-injection step.
func (p *preparer) sync(whole bool, drafts []prepDraft, op string, one func(segment.Blank) error) error {
	if err := p.store.opts.fault(op); err != nil {
		return err
	}
	if whole {
		return p.fs.sync()
	}
	for _, d := range drafts {
		if err := one(d.b); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// fail removes the drafts after a failed sync: those of shards still
// dormant and unwritten (any other's draft is gone, and its files are the
// shard's own).
func (p *preparer) fail(st *Stream, drafts []prepDraft, err error) {
	for _, d := range drafts {
		d.sh.loadMu.Lock()
		if ok, _ := d.sh.blank(); ok {
			_ = d.b.Discard()
		}
		d.sh.loadMu.Unlock()
	}
	p.warn(st, len(drafts), err)
}

// warn logs that shards of st could not be prepared.
func (p *preparer) warn(st *Stream, shards int, err error) {
	p.store.log.Warn().Err(err).Str("stream", st.name).Int("shards", shards).
		Msg("cannot prepare first segments; the first appends will create them")
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

// blank reports whether a shard is one whose first segment the preparer
// should create: it is dormant, never failed to load, has no resume point
// (one written and unloaded has) and no segment file; its directory is
// made if missing. loadMu must be held.
func (sh *Shard) blank() (bool, error) {
	if sh.loaded.Load() || sh.loadErr != nil || sh.resume != nil {
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
