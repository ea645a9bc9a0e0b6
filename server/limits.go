package server

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// Limits is the limits emulator: AWS's per-shard throughput limits, error
// injection and account limits, for testing clients' retry logic. The zero
// value emulates nothing (shardlog's default: as fast as the disk allows).
// Change it live with Server.SetLimits.
type Limits struct {
	// Throughput turns the per-shard limits below on; they answer
	// ProvisionedThroughputExceededException (per record inside PutRecords).
	Throughput bool
	// WriteBytesPerSecond is a shard's write rate in bytes of data plus
	// partition key (AWS: 1 MiB/s). Up to one second of it may be used at
	// once (burst); a record larger than that is accepted when the shard's
	// allowance is full and is paid back before the next write (AWS's burst
	// allowance for records over 1 MiB).
	WriteBytesPerSecond int
	// WriteRecordsPerSecond is a shard's write rate in records (AWS: 1000/s),
	// with up to one second of burst.
	WriteRecordsPerSecond int
	// ReadBytesPerSecond is a shard's GetRecords rate in bytes of data (AWS:
	// 2 MiB/s). A call is refused while the shard owes bytes: a 10 MiB
	// answer blocks the shard's reads for 5 s, as in AWS.
	ReadBytesPerSecond int
	// ReadCallsPerSecond is a shard's GetRecords call rate (AWS: 5/s), with
	// up to one second of burst.
	ReadCallsPerSecond int
	// ErrorProbability is the chance, from 0 to 1, that any API request is
	// answered with InternalFailure (HTTP 500) before it runs.
	ErrorProbability float64
	// ConsumersPerStream is how many enhanced fan-out consumers a stream may
	// have registered (0: the store's limit, AWS's 20).
	ConsumersPerStream int
	// UpdateShardCountPerDay is how many UpdateShardCount calls a stream may
	// take in a rolling 24 hours (AWS: 10; 0: unlimited).
	UpdateShardCountPerDay int
}

// AWS's per-shard throughput limits, the defaults of the emulator's rates.
const (
	AWSWriteBytesPerSecond   = 1 << 20
	AWSWriteRecordsPerSecond = 1000
	AWSReadBytesPerSecond    = 2 << 20
	AWSReadCallsPerSecond    = 5
)

// withDefaults fills zero rates with AWS's.
func (l Limits) withDefaults() Limits {
	if l.WriteBytesPerSecond <= 0 {
		l.WriteBytesPerSecond = AWSWriteBytesPerSecond
	}
	if l.WriteRecordsPerSecond <= 0 {
		l.WriteRecordsPerSecond = AWSWriteRecordsPerSecond
	}
	if l.ReadBytesPerSecond <= 0 {
		l.ReadBytesPerSecond = AWSReadBytesPerSecond
	}
	if l.ReadCallsPerSecond <= 0 {
		l.ReadCallsPerSecond = AWSReadCallsPerSecond
	}
	return l
}

// SetLimits replaces the limits emulator's settings; requests that start
// after it returns see them. Shards keep the allowance they have. Safe for
// concurrent use (the daemon calls it on SIGHUP).
func (s *Server) SetLimits(l Limits) {
	l = l.withDefaults()
	s.limits.Store(&l)
	// The store enforces the account limits with the changes they guard.
	s.store.SetAccountLimits(shard.AccountLimits{
		Shards:             s.opts.ShardLimit,
		OnDemandStreams:    s.opts.OnDemandStreamLimit,
		ConsumersPerStream: l.ConsumersPerStream,
	})
}

// Limits returns the limits in force. Safe for concurrent use.
func (s *Server) Limits() Limits { return *s.limits.Load() }

// limiter holds the per-shard and per-stream state of the emulator.
type limiter struct {
	now    func() time.Time
	shards sync.Map // *shard.Shard -> *bucket
	mu     sync.Mutex
	scale  map[string][]time.Time // stream name -> UpdateShardCount calls in the last 24h
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, scale: map[string][]time.Time{}}
}

// bucket is one shard's allowances: token buckets holding up to one second
// of each rate, refilled continuously. Byte allowances may go negative
// (owed), which is how large records and large reads borrow.
type bucket struct {
	mu                    sync.Mutex
	last                  time.Time
	writeBytes, writeRecs float64
	readBytes, readCalls  float64
}

func (lm *limiter) bucket(sh *shard.Shard, l *Limits) *bucket {
	if v, ok := lm.shards.Load(sh); ok {
		return v.(*bucket)
	}
	b := &bucket{
		last:       lm.now(),
		writeBytes: float64(l.WriteBytesPerSecond), writeRecs: float64(l.WriteRecordsPerSecond),
		readBytes: float64(l.ReadBytesPerSecond), readCalls: float64(l.ReadCallsPerSecond),
	}
	v, _ := lm.shards.LoadOrStore(sh, b)
	return v.(*bucket)
}

// refillLocked adds the allowance earned since the last call, capped at one
// second of each rate.
func (b *bucket) refillLocked(now time.Time, l *Limits) {
	dt := now.Sub(b.last).Seconds()
	if dt <= 0 {
		return
	}
	b.last = now
	fill := func(v *float64, rate int) {
		*v = min(*v+dt*float64(rate), float64(rate))
	}
	fill(&b.writeBytes, l.WriteBytesPerSecond)
	fill(&b.writeRecs, l.WriteRecordsPerSecond)
	fill(&b.readBytes, l.ReadBytesPerSecond)
	fill(&b.readCalls, l.ReadCallsPerSecond)
}

// admitWrite reports whether sh may take a record of n bytes now, and
// charges it if so.
func (lm *limiter) admitWrite(sh *shard.Shard, n int, l *Limits) bool {
	b := lm.bucket(sh, l)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(lm.now(), l)
	full := b.writeBytes >= float64(l.WriteBytesPerSecond)
	if b.writeRecs < 1 || b.writeBytes < float64(n) && !full {
		return false
	}
	b.writeRecs--
	b.writeBytes -= float64(n)
	return true
}

// admitRead reports whether sh may serve a GetRecords call now, and
// charges the call if so; the bytes are charged after the read by
// chargeRead.
func (lm *limiter) admitRead(sh *shard.Shard, l *Limits) bool {
	b := lm.bucket(sh, l)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(lm.now(), l)
	if b.readCalls < 1 || b.readBytes < 0 {
		return false
	}
	b.readCalls--
	return true
}

func (lm *limiter) chargeRead(sh *shard.Shard, n int, l *Limits) {
	b := lm.bucket(sh, l)
	b.mu.Lock()
	b.readBytes -= float64(n)
	b.mu.Unlock()
}

// admitScale reports whether stream may take another UpdateShardCount
// within a rolling day, and records the call if so.
func (lm *limiter) admitScale(stream string, perDay int) bool {
	if perDay <= 0 {
		return true
	}
	now := lm.now()
	lm.mu.Lock()
	defer lm.mu.Unlock()
	calls := lm.scale[stream][:0]
	for _, t := range lm.scale[stream] {
		if now.Sub(t) < 24*time.Hour {
			calls = append(calls, t)
		}
	}
	if len(calls) >= perDay {
		lm.scale[stream] = calls
		return false
	}
	lm.scale[stream] = append(calls, now)
	return true
}

// throttledError is the result of a record refused by the write limit. It
// is kept in shard.PutResult.Err and encoded as AWS encodes it.
type throttledError struct{ shard, stream, account string }

func (e *throttledError) Error() string {
	return "Rate exceeded for shard " + e.shard + " in stream " + e.stream + " under account " + e.account + "."
}

func isThrottled(err error) bool {
	var t *throttledError
	return errors.As(err, &t)
}

// recordError is the ErrorCode and ErrorMessage of a failed PutRecords entry.
func recordError(err error) (code, message string) {
	var t *throttledError
	if errors.As(err, &t) {
		return wire.ThroughputExceeded, t.Error()
	}
	return wire.InternalFailureType, "Internal service failure."
}

// injectError reports whether this request is to fail (ErrorProbability).
func (s *Server) injectError() bool {
	p := s.limits.Load().ErrorProbability
	return p > 0 && rand.Float64() < p
}

var errInjected = &wire.APIError{Type: wire.InternalFailureType, Message: "Injected failure (limits.error_probability)."}

// throttleWrites marks, in results, the records the write limit refuses,
// with results[i].Shard set to the shard they route to. It reports whether
// any record is left to append.
func (s *Server) throttleWrites(st *shard.Stream, recs []shard.Record, keys []shard.HashKey, results []shard.PutResult) bool {
	l := s.limits.Load()
	any := false
	for i := range recs {
		sh := st.Route(keys[i])
		results[i] = shard.PutResult{Shard: sh}
		if s.limiter.admitWrite(sh, len(recs[i].Data)+len(recs[i].PartitionKey), l) {
			any = true
			continue
		}
		results[i].Err = &throttledError{shard: sh.ID(), stream: st.Name(), account: s.store.Options().AccountID}
	}
	return any
}

// putAdmitted appends the records of recs that throttleWrites let through
// and fills their results; scratch is reused between calls.
func putAdmitted(st *shard.Stream, recs []shard.Record, keys []shard.HashKey, results []shard.PutResult, scratch *putScratch) {
	scratch.idx, scratch.recs, scratch.keys = scratch.idx[:0], scratch.recs[:0], scratch.keys[:0]
	for i := range results {
		if results[i].Err == nil {
			scratch.idx = append(scratch.idx, i)
			scratch.recs = append(scratch.recs, recs[i])
			scratch.keys = append(scratch.keys, keys[i])
		}
	}
	scratch.results = append(scratch.results[:0], make([]shard.PutResult, len(scratch.idx))...)
	st.Put(scratch.recs, scratch.keys, scratch.results)
	for j, i := range scratch.idx {
		results[i] = scratch.results[j]
	}
	clear(scratch.recs)
	clear(scratch.results)
}

// putScratch is the reusable scratch of putAdmitted.
type putScratch struct {
	idx     []int
	recs    []shard.Record
	keys    []shard.HashKey
	results []shard.PutResult
}

// throughputExceeded is GetRecords' and PutRecord's error when a shard's
// limit is reached, in AWS's words.
func (s *Server) throughputExceeded(st *shard.Stream, sh *shard.Shard) *wire.APIError {
	return wire.Errorf(wire.ThroughputExceeded, "Rate exceeded for shard %s in stream %s under account %s.", sh.ID(), st.Name(), s.store.Options().AccountID)
}

// limitsState is the emulator's part of a Server.
type limitsState = atomic.Pointer[Limits]

// dataBytes is the data of recs, in bytes: what GetRecords' limit counts.
func dataBytes(recs []shard.Record) int {
	n := 0
	for i := range recs {
		n += len(recs[i].Data)
	}
	return n
}
