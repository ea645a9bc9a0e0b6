package shard

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// commitWorkers bounds how many shards one commit round syncs at once.
// Syncs of different files proceed in parallel on the device, and on ext4
// concurrent syncs share one journal commit, so a round takes about as
// long as its slowest sync rather than the sum; the bound keeps a round
// over thousands of dirty shards (an interval pass) from starting a
// thread per shard.
const commitWorkers = 16

// maxGather bounds how long a round waits for appenders to come back (see
// committer).
const maxGather = time.Millisecond

// committer is the store-wide group commit. Appenders under FsyncAlways
// hand it the shards they wrote to and wait; one goroutine takes every
// shard handed in since its last round, syncs them in parallel, advances
// each one's durable mark (waking its readers) and then releases every
// appender of the round at once. Appenders that arrive while a round runs
// join the next one, so each dirty shard is synced once per round however
// many requests wrote to it, and a request that wrote to several shards
// waits for one round, not for one sync chain per shard. The interval
// policy's periodic pass goes through the same rounds.
//
// A round waits a little for its appenders before it starts: until it has
// as many waiters as were active when the round before ended (those it
// released plus those already queued), or for half as long as that
// round's syncs took (at most maxGather), whichever comes first. Without
// it, the appenders released by one round come back a few at a time and
// the rounds split them into two halves that alternate; each round then
// pays the per-file cost of every dirty shard (a device flush each, and
// write-protecting the written pages of the mapping) for half the
// records. A lone appender does not wait: it is all the round before had.
//
// The goroutine runs only while there is work: it is started by the
// first join after an idle spell and exits when a round finds nothing
// queued, so a committer needs no stopping. A sync failure is sticky on
// its shard (see Shard.fail), which is how waiters learn of it.
//
// Safe for concurrent use.
type committer struct {
	// fs, when set, syncs the store's filesystem at once (see fsSyncer);
	// set before the first round.
	fs *fsSyncer

	mu      sync.Mutex
	next    *commitRound // the round being filled; under mu
	running bool         // the round goroutine is alive; under mu
	// want is how many waiters the round being filled gathers before it
	// starts, gather how long it may wait for them; both under mu.
	// gathered is signalled when the round has want.
	want     int
	gather   time.Duration
	gathered chan struct{}
}

// commitRound is one group of shards synced together. done is closed once
// every one of them has been synced (or has failed).
type commitRound struct {
	shards  []*Shard
	waiters int // calls waiting for the round; under committer.mu
	done    chan struct{}

	// Used by sync: the index of the next shard to sync, and the workers.
	at      atomic.Int64
	workers sync.WaitGroup
}

// newCommitRound makes an empty round with room for shards shards.
func newCommitRound(shards int) *commitRound {
	return &commitRound{shards: make([]*Shard, 0, shards), done: make(chan struct{})}
}

// pendingSync is a shard an appender wrote to and the position it must be
// durable to; err receives the outcome.
type pendingSync struct {
	shard *Shard
	end   uint64
	err   error
}

// wait returns once every pending shard is durable up to its end, or has
// failed: then its err says why (the shard's sticky failure, or
// ErrStoreClosed when the store shut the shard down first). One round
// settles it: a round starts after its shards were queued, so its sync of
// a shard covers every record published to it before the queueing.
func (c *committer) wait(pending []pendingSync) {
	c.mu.Lock()
	var r *commitRound
	for i := range pending {
		if p := &pending[i]; p.err == nil && p.shard.durable.Load() < p.end {
			r = c.queueLocked(p.shard)
		}
	}
	if r != nil {
		c.joinLocked(r)
	}
	c.mu.Unlock()
	if r == nil {
		return
	}
	<-r.done
	for i := range pending {
		p := &pending[i]
		switch {
		case p.err != nil || p.shard.durable.Load() >= p.end:
		case p.shard.sticky.Load() != nil:
			p.err = *p.shard.sticky.Load()
		default:
			p.err = fmt.Errorf("sync shard %s: %w", p.shard.id, ErrStoreClosed)
		}
	}
}

// syncAll syncs every loaded shard with records not yet durable, in one
// round, and returns once that round is done.
func (c *committer) syncAll(shards []*Shard) {
	c.mu.Lock()
	var r *commitRound
	for _, sh := range shards {
		if sh.loaded.Load() && sh.durable.Load() < sh.next.Load() {
			r = c.queueLocked(sh)
		}
	}
	if r != nil {
		c.joinLocked(r)
	}
	c.mu.Unlock()
	if r != nil {
		<-r.done
	}
}

// queueLocked adds sh to the round being filled, once, makes sure the
// round goroutine runs, and returns the round. c.mu must be held.
func (c *committer) queueLocked(sh *Shard) *commitRound {
	if c.next == nil {
		c.next = newCommitRound(1)
	}
	r := c.next
	if sh.queued != r {
		sh.queued = r
		r.shards = append(r.shards, sh)
	}
	if !c.running {
		c.running = true
		go c.run()
	}
	return r
}

// joinLocked counts one more waiter of r and tells a gathering round
// goroutine once r has as many as it waits for. c.mu must be held.
func (c *committer) joinLocked(r *commitRound) {
	r.waiters++
	if r.waiters == c.want {
		select {
		case c.gathered <- struct{}{}:
		default:
		}
	}
}

// run syncs rounds until one finds nothing queued.
func (c *committer) run() {
	timer := time.NewTimer(0)
	<-timer.C
	for {
		c.mu.Lock()
		r := c.next
		if r == nil || len(r.shards) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		if r.waiters < c.want && c.gather > 0 {
			if c.gathered == nil {
				c.gathered = make(chan struct{}, 1)
			}
			select {
			case <-c.gathered: // a stale signal from an earlier round
			default:
			}
			c.mu.Unlock()
			timer.Reset(c.gather)
			select {
			case <-c.gathered:
				if !timer.Stop() {
					<-timer.C
				}
			case <-timer.C:
			}
			c.mu.Lock()
		}
		c.next = newCommitRound(len(r.shards)) // busy rounds are alike
		c.mu.Unlock()
		start := time.Now()
		r.sync(c.fs)
		took := time.Since(start)
		c.mu.Lock()
		// Everyone active now: the waiters about to be released, and
		// those already queued for the next round.
		c.want, c.gather = r.waiters+c.next.waiters, min(took/2, maxGather)
		c.mu.Unlock()
		clear(r.shards) // shards point at rounds; rounds need not keep shards alive
		close(r.done)
	}
}

// sync syncs every shard of the round: with one sync of the whole
// filesystem when fs is set and the round has fsSyncMin shards or more on
// it, the rest one by one, up to commitWorkers at a time. Each shard's
// sync covers everything published to it when the sync starts, which
// includes the records of every appender that joined the round. Failures
// are sticky on their shard and logged there.
func (r *commitRound) sync(fs *fsSyncer) {
	shards := r.shards
	if fs != nil && len(shards) >= fsSyncMin {
		shards = r.syncFS(fs)
	}
	for range min(len(shards), commitWorkers) - 1 {
		r.workers.Add(1)
		go func() {
			defer r.workers.Done()
			r.work(shards)
		}()
	}
	r.work(shards)
	r.workers.Wait()
}

// work syncs the shards that no other worker has taken.
func (r *commitRound) work(shards []*Shard) {
	for i := int(r.at.Add(1) - 1); i < len(shards); i = int(r.at.Add(1) - 1) {
		sh := shards[i]
		_ = sh.syncTo(sh.next.Load())
	}
}

// syncFS syncs the round's shards on fs's filesystem with one syncfs and
// returns the others, for work. Each shard's syncMu is held from before
// its sync point is taken until its durable mark moves, as syncTo holds it
// around a sync of its own. When syncfs fails, every shard is synced again
// on its own, so that each failure lands on the shard whose file had it.
func (r *commitRound) syncFS(fs *fsSyncer) []*Shard {
	var rest []*Shard
	points := make([]syncPoint, 0, len(r.shards))
	for _, sh := range r.shards {
		if !sh.onFS.Load() {
			rest = append(rest, sh)
			continue
		}
		sh.syncMu.Lock()
		if p, ok := sh.syncPoint(); ok {
			points = append(points, p)
		} else {
			sh.syncMu.Unlock()
		}
	}
	if len(points) == 0 {
		return rest
	}
	err := fs.sync()
	for _, p := range points {
		if err == nil {
			p.seg.MarkSynced(p.end)
			p.sh.markDurable(p.target)
		} else {
			_ = p.sh.syncLocked()
		}
		p.sh.syncMu.Unlock()
	}
	return rest
}
