package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// e2eGrace is how long e2e readers keep polling after the producer stopped,
// waiting for acknowledged records to show up.
const e2eGrace = 5 * time.Second

// Result is the outcome of one run. Rates are over the measured phase.
type Result struct {
	Label       string   `json:"label"`
	Name        string   `json:"name"`
	Workload    Workload `json:"workload"`
	Endpoint    string   `json:"endpoint"`
	Shards      int      `json:"shards"`
	Conns       int      `json:"conns"`
	RecordBytes int      `json:"record_bytes"`
	Batch       int      `json:"batch"`
	Rate        int      `json:"rate,omitempty"`

	Seconds        float64 `json:"seconds"`
	Records        int64   `json:"records"` // acknowledged (put, putone) or read (get, e2e)
	Bytes          int64   `json:"bytes"`   // payload bytes of Records
	Requests       int64   `json:"requests"`
	RecordsPerSec  float64 `json:"records_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"` // payload, 10^6 bytes
	RequestsPerSec float64 `json:"requests_per_sec"`

	LatencyKind  string           `json:"latency_kind"` // "request", "put-to-visible" or "put-to-push"
	Latency      Latency          `json:"latency"`
	Consumers    int              `json:"consumers,omitempty"`    // efo: registered consumers
	PerConsumer  []Latency        `json:"per_consumer,omitempty"` // efo: put-to-push of each consumer
	PutLatency   *Latency         `json:"put_latency,omitempty"`  // e2e: the producer's requests
	Distribution []Quantile       `json:"distribution,omitempty"`
	Timeline     []Point          `json:"timeline,omitempty"`
	Errors       map[string]int64 `json:"errors"`
	Retries      int64            `json:"retries"` // records resent after a throttle
	Failed       int64            `json:"failed"`  // records given up on
	Unsent       int64            `json:"unsent"`  // throttled records still to be resent when the run ended

	ClientCPU float64 `json:"client_cpu_pct"` // of one core, this process
	ServerCPU float64 `json:"server_cpu_pct"` // of one core; -1 when unknown
	// ServerMicrosPerRecord and ServerMillisPerMB are the server's CPU time
	// (user+system, from /proc) over the measured phase divided by the
	// records and payload megabytes (10^6 bytes) it moved; -1 when unknown.
	// Unlike throughput, they do not depend on how much CPU the load
	// generator leaves the server when both share a machine.
	ServerMicrosPerRecord float64 `json:"server_us_per_record"`
	ServerMillisPerMB     float64 `json:"server_ms_per_mb"`

	Check    *Check    `json:"check,omitempty"`
	PutPhase *PutPhase `json:"put_phase,omitempty"` // get: the unmeasured put phase
	Err      string    `json:"error,omitempty"`     // why the run stopped early
}

// PutPhase summarises get's put phase.
type PutPhase struct {
	Records       int64   `json:"records"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
}

// OK reports whether the run moved records, stopped cleanly and, if it
// read, accounted for every record.
func (r *Result) OK() bool {
	return r.Err == "" && r.Records > 0 && (r.Check == nil || r.Check.OK())
}

// Run performs one bounded run described by o against o.Endpoint. It
// returns an error when the run could not start (bad options, endpoint
// refused, stream not created); problems during the run are in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	addr, tls, _ := checkEndpoint(o.Endpoint, o.AllowRemote)
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	cd, err := newCodec(o.RecordBytes, o.Seed)
	if err != nil {
		return nil, err
	}
	c := newClient(addr, tls, o.HTTP2, o.Conns+o.Shards+2, o.Credentials)
	stream := o.Stream
	if stream == "" {
		stream = streamName(o.Name, o.Seed)
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	shards, created, err := c.ensureStream(setupCtx, stream, o.Shards)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("bench: stream %s at %s: %w", stream, o.Endpoint, err)
	}
	if created && !o.KeepStream {
		defer func() { _ = c.deleteStream(stream) }()
	}
	res := &Result{
		Label: o.Label, Name: o.Name, Workload: o.Workload, Endpoint: o.Endpoint,
		Shards: len(shards), Conns: o.Conns, RecordBytes: o.RecordBytes, Batch: o.Batch, Rate: o.Rate,
		Errors: map[string]int64{},
	}
	p := newProducer(&o, c, cd, stream)
	switch o.Workload {
	case Put, PutOne:
		res.LatencyKind = "request"
		measure(ctx, &o, res, p.rec, func(ctx context.Context) {
			runProducer(ctx, p, o.Duration)
		})
		mergeErrors(res, p.rec)
	case Get:
		res.LatencyKind = "request"
		t0 := time.Now()
		runProducer(ctx, p, o.Duration)
		put := time.Since(t0).Seconds()
		res.PutPhase = &PutPhase{Records: p.ackedCount(), Seconds: put, RecordsPerSec: float64(p.ackedCount()) / put}
		mergeErrors(res, p.rec)
		rec := newRecorder()
		var read atomic.Int64
		readers := newReaders(&o, c, cd, rec, stream, shards, false, &read, func(behind bool) bool { return !behind })
		measure(ctx, &o, res, rec, func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 2*o.Duration+30*time.Second)
			defer cancel()
			runReaders(ctx, readers)
		})
		finishCheck(res, p, readers)
		mergeErrors(res, rec)
	case E2E:
		res.LatencyKind = "put-to-visible"
		rec := newRecorder()
		var read, acked atomic.Int64
		var producerDone atomic.Bool
		var doneAt atomic.Int64
		readers := newReaders(&o, c, cd, rec, stream, shards, true, &read, func(bool) bool {
			if !producerDone.Load() {
				return false
			}
			return read.Load() >= acked.Load() || time.Now().UnixNano()-doneAt.Load() > int64(e2eGrace)
		})
		measure(ctx, &o, res, rec, func(ctx context.Context) {
			rctx, cancel := context.WithTimeout(ctx, o.Duration+e2eGrace+10*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			wg.Go(func() { runReaders(rctx, readers) })
			time.Sleep(50 * time.Millisecond) // let the readers take their iterators
			runProducer(ctx, p, o.Duration)
			acked.Store(p.ackedCount())
			doneAt.Store(time.Now().UnixNano())
			producerDone.Store(true)
			wg.Wait()
		})
		finishCheck(res, p, readers)
		mergeErrors(res, p.rec)
		mergeErrors(res, rec)
		p.rec.mu.Lock()
		put := summarize(p.rec.total)
		p.rec.mu.Unlock()
		res.PutLatency = &put
	case EFO:
		if err := runEFO(ctx, &o, c, cd, res, p, addr, tls, stream, shards); err != nil {
			return nil, fmt.Errorf("bench: efo at %s: %w", o.Endpoint, err)
		}
	}
	return res, nil
}

// streamName makes a fresh stream's name from the run's: characters that
// AWS's pattern [a-zA-Z0-9_.-]+ rejects become '-'.
func streamName(name string, seed uint64) string {
	b := []byte(fmt.Sprintf("bench-%s-%08x", name, uint32(seed)))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b[:min(len(b), 128)])
}

// runProducer runs o.Conns producer workers for at most d.
func runProducer(ctx context.Context, p *producer, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	p.start = time.Now()
	var wg sync.WaitGroup
	for w := range p.o.Conns {
		wg.Go(func() { p.worker(ctx, w) })
	}
	wg.Wait()
}

func newReaders(o *Options, c *client, cd *codec, rec *recorder, stream string, shards []string, e2e bool, read *atomic.Int64, done func(bool) bool) []*reader {
	rs := make([]*reader, len(shards))
	for i, id := range shards {
		rs[i] = &reader{o: o, c: c, codec: cd, rec: rec, stream: stream, shardID: id,
			tally: newTally(o.Conns), e2e: e2e, read: read, done: done}
	}
	return rs
}

func runReaders(ctx context.Context, rs []*reader) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() { r.run(ctx) })
	}
	wg.Wait()
}

// finishCheck reconciles what the readers read with what was acknowledged.
func finishCheck(res *Result, p *producer, rs []*reader) {
	tallies := make([]*tally, len(rs))
	for i, r := range rs {
		tallies[i] = r.tally
		if r.err != nil && res.Err == "" {
			res.Err = r.err.Error()
		}
	}
	c := reconcile(p.acked, tallies)
	res.Check = &c
	res.Retries += p.rec.retries.Load()
	res.Failed += p.rec.failed.Load()
	res.Unsent += p.rec.unsent.Load()
}

func mergeErrors(res *Result, rec *recorder) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for k, v := range rec.errors {
		res.Errors[k] += v
	}
}

// measure runs phase while sampling rec for the timeline and the progress
// line, and fills res's rates, latency and CPU from it.
func measure(ctx context.Context, o *Options, res *Result, rec *recorder, phase func(context.Context)) {
	const sampleEvery = 250 * time.Millisecond
	cpu0 := selfCPU()
	srv0, srvErr := time.Duration(0), error(nil)
	if o.ServerPID > 0 {
		srv0, srvErr = treeCPU(o.ServerPID)
	}
	start := time.Now()
	s := &sampler{r: rec, start: start, last: start}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		nextPrint := start.Add(o.ProgressEvery)
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				s.sample(now)
				if o.Progress != nil && !now.Before(nextPrint.Add(-sampleEvery/2)) {
					nextPrint = nextPrint.Add(o.ProgressEvery)
					progress(o, rec, now.Sub(start))
				}
			}
		}
	})
	phase(ctx)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	s.sample(time.Now())
	if o.Progress != nil && o.ProgressInPlace {
		fmt.Fprint(o.Progress, "\r\033[K")
	}
	cpu1 := selfCPU()
	res.ServerCPU, res.ServerMicrosPerRecord, res.ServerMillisPerMB = -1, -1, -1
	var srvUsed time.Duration
	if o.ServerPID > 0 && srvErr == nil {
		if srv1, err := treeCPU(o.ServerPID); err == nil {
			srvUsed = srv1 - srv0
			res.ServerCPU = 100 * srvUsed.Seconds() / elapsed.Seconds()
		}
	}
	res.ClientCPU = 100 * (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	sec := elapsed.Seconds()
	res.Seconds = sec
	res.Records = rec.records.Load()
	res.Bytes = rec.bytes.Load()
	res.Requests = rec.requests.Load()
	res.RecordsPerSec = float64(res.Records) / sec
	res.MBPerSec = float64(res.Bytes) / sec / 1e6
	res.RequestsPerSec = float64(res.Requests) / sec
	if res.ServerCPU >= 0 && res.Records > 0 {
		res.ServerMicrosPerRecord = float64(srvUsed.Microseconds()) / float64(res.Records)
	}
	if res.ServerCPU >= 0 && res.Bytes > 0 {
		res.ServerMillisPerMB = float64(srvUsed.Microseconds()) / 1e3 / (float64(res.Bytes) / 1e6)
	}
	rec.mu.Lock()
	res.Latency = summarize(rec.total)
	res.Distribution = distribution(rec.total)
	rec.mu.Unlock()
	res.Timeline = s.points
	res.Retries += rec.retries.Load()
	res.Failed += rec.failed.Load()
	res.Unsent += rec.unsent.Load()
}

// progress prints the live line: elapsed, rates so far, p99 so far, errors.
func progress(o *Options, rec *recorder, elapsed time.Duration) {
	sec := elapsed.Seconds()
	rec.mu.Lock()
	p99 := float64(rec.total.ValueAtQuantile(99)) / 1000
	var errs int64
	for _, v := range rec.errors {
		errs += v
	}
	rec.mu.Unlock()
	left := max(0, o.Duration-elapsed).Round(time.Second)
	end := "\n"
	if o.ProgressInPlace {
		end = "\033[K"
		fmt.Fprint(o.Progress, "\r")
	}
	fmt.Fprintf(o.Progress, "%s %s: %5.1fs  %10.0f rec/s  %8.1f MB/s  p99 %7.2f ms  errors %d  left %s%s",
		o.Label, o.Name, sec, float64(rec.records.Load())/sec, float64(rec.bytes.Load())/sec/1e6, p99, errs, left, end)
}
