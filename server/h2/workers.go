package h2

import (
	"net/http"
	"sync"
	"time"
)

// workerIdle is how long an idle worker goroutine is kept.
const workerIdle = 10 * time.Second

// workers runs handlers on goroutines that outlive them. A new goroutine
// starts with a small stack that a Kinesis handler grows several times;
// the copies (runtime.morestack) took 8% of the server's CPU in a
// PutRecord profile. A worker keeps its grown stack for the next request.
// Workers idle for workerIdle are stopped by the next dispatch after
// that. Safe for concurrent use; the zero value is ready.
type workers struct {
	mu        sync.Mutex
	idle      []*worker // most recently parked last
	lastSweep time.Time
}

// worker is one parked goroutine; a zero job stops it.
type worker struct {
	jobs   chan job
	parked time.Time
}

// job is one stream to run a handler for.
type job struct {
	c   *conn
	st  *stream
	req *http.Request
	h   http.Handler
}

// run runs j on an idle worker, or on a new one.
func (p *workers) run(j job) {
	now := time.Now()
	p.mu.Lock()
	if now.Sub(p.lastSweep) > workerIdle {
		p.sweepLocked(now)
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- j
		return
	}
	p.mu.Unlock()
	go p.loop(&worker{jobs: make(chan job, 1)}, j)
}

// loop runs jobs until it is handed a zero one.
func (p *workers) loop(w *worker, j job) {
	for j.c != nil {
		j.c.runHandler(j.st, j.req, j.h)
		j = job{}
		w.parked = time.Now()
		p.mu.Lock()
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		j = <-w.jobs
	}
}

// sweepLocked stops the workers parked for longer than workerIdle (the
// oldest come first). p.mu must be held.
func (p *workers) sweepLocked(now time.Time) {
	p.lastSweep = now
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].parked) > workerIdle {
		p.idle[n].jobs <- job{}
		n++
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
}

// stop stops every idle worker.
func (p *workers) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.idle {
		w.jobs <- job{}
	}
	p.idle = nil
}
