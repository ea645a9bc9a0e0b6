package bench

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	histMinMicros = 1
	histMaxMicros = 120_000_000 // two minutes
	histSigFigs   = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

// recorder accumulates one run's measurements. Its methods are safe for
// concurrent use.
type recorder struct {
	records  atomic.Int64 // records done (acknowledged or read)
	bytes    atomic.Int64 // payload bytes of those records
	requests atomic.Int64
	retries  atomic.Int64 // records resent after a throttle
	failed   atomic.Int64 // records given up on
	unsent   atomic.Int64 // throttled records still to be resent when the run ended

	mu       sync.Mutex
	total    *hdrhistogram.Histogram // microseconds
	interval *hdrhistogram.Histogram // since the last sample
	errors   map[string]int64        // by __type, or "network"
}

func newRecorder() *recorder {
	return &recorder{total: newHist(), interval: newHist(), errors: map[string]int64{}}
}

// latency records one latency sample.
func (r *recorder) latency(d time.Duration) {
	us := d.Microseconds()
	us = max(histMinMicros, min(us, histMaxMicros))
	r.mu.Lock()
	_ = r.total.RecordValue(us)
	_ = r.interval.RecordValue(us)
	r.mu.Unlock()
}

// latencies records many samples under one lock.
func (r *recorder) latencies(us []int64) {
	r.mu.Lock()
	for _, v := range us {
		v = max(histMinMicros, min(v, histMaxMicros))
		_ = r.total.RecordValue(v)
		_ = r.interval.RecordValue(v)
	}
	r.mu.Unlock()
}

// error counts one error of type typ, n times.
func (r *recorder) error(typ string, n int64) {
	r.mu.Lock()
	r.errors[typ] += n
	r.mu.Unlock()
}

// Point is one sample of the timeline.
type Point struct {
	T             float64 `json:"t"` // seconds since the start of the measured phase
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	P99Millis     float64 `json:"p99_ms"` // of the samples in this interval; 0 when none
}

// sampler turns the recorder's counters into a timeline.
type sampler struct {
	r         *recorder
	start     time.Time
	last      time.Time
	lastRecs  int64
	lastBytes int64
	points    []Point
}

func (s *sampler) sample(now time.Time) Point {
	recs, b := s.r.records.Load(), s.r.bytes.Load()
	s.r.mu.Lock()
	var p99 float64
	if s.r.interval.TotalCount() > 0 {
		p99 = float64(s.r.interval.ValueAtQuantile(99)) / 1000
	}
	s.r.interval.Reset()
	s.r.mu.Unlock()
	dt := now.Sub(s.last).Seconds()
	p := Point{T: now.Sub(s.start).Seconds(), P99Millis: p99}
	if dt > 0 {
		p.RecordsPerSec = float64(recs-s.lastRecs) / dt
		p.MBPerSec = float64(b-s.lastBytes) / dt / 1e6
	}
	s.last, s.lastRecs, s.lastBytes = now, recs, b
	s.points = append(s.points, p)
	return p
}

// Latency summarises a latency distribution, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize returns the summary of a histogram of microseconds.
func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

// Quantile is one point of a latency distribution.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	Millis     float64 `json:"ms"`
}

// distribution returns the histogram's percentile curve at log-spaced
// percentiles (50, 75, 87.5, …), for the chart.
func distribution(h *hdrhistogram.Histogram) []Quantile {
	if h.TotalCount() == 0 {
		return nil
	}
	var out []Quantile
	for _, p := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100} {
		out = append(out, Quantile{Percentile: p, Millis: float64(h.ValueAtQuantile(p)) / 1000})
	}
	return out
}

// sortedErrors returns the error types of m by descending count.
func sortedErrors(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
