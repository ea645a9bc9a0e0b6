package shard

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// commitWorkers bounds how many shards one commit round syncs at once.
// Syncs of different files proceed in parallel on the device, and on ext4
// concurrent syncs share one journal commit, so a round takes about as
// long as its slowest sync rather than the sum; the bound keeps a round
// over thousands of dirty shards (an interval pass) from starting a
// thread per shard.
const commitWorkers = 16

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
// The goroutine runs only while there is work: it is started by the
// first join after an idle spell and exits when a round finds nothing
// queued, so a committer needs no stopping. A sync failure is sticky on
// its shard (see Shard.fail), which is how waiters learn of it.
//
// Safe for concurrent use.
type committer struct {
	mu      sync.Mutex
	next    *commitRound // the round being filled; under mu
	running bool         // the round goroutine is alive; under mu
}

// commitRound is one group of shards synced together. done is closed once
// every one of them has been synced (or has failed).
type commitRound struct {
	shards []*Shard
	done   chan struct{}
}

func newCommitRound() *commitRound {
	return &commitRound{done: make(chan struct{})}
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
	c.mu.Unlock()
	if r != nil {
		<-r.done
	}
}

// queueLocked adds sh to the round being filled, once, makes sure the
// round goroutine runs, and returns the round. c.mu must be held.
func (c *committer) queueLocked(sh *Shard) *commitRound {
	if c.next == nil {
		c.next = newCommitRound()
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

// run syncs rounds until one finds nothing queued.
func (c *committer) run() {
	for {
		c.mu.Lock()
		r := c.next
		if r == nil || len(r.shards) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.next = newCommitRound()
		c.mu.Unlock()
		r.sync()
		clear(r.shards) // shards point at rounds; rounds need not keep shards alive
		close(r.done)
	}
}

// sync syncs every shard of the round, up to commitWorkers at a time. Each
// shard's sync covers everything published to it when the sync starts,
// which includes the records of every appender that joined the round.
// Failures are sticky on their shard and logged there.
func (r *commitRound) sync() {
	var at atomic.Int64
	work := func() {
		for i := int(at.Add(1) - 1); i < len(r.shards); i = int(at.Add(1) - 1) {
			sh := r.shards[i]
			_ = sh.syncTo(sh.next.Load())
		}
	}
	var wg sync.WaitGroup
	for range min(len(r.shards), commitWorkers) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
