package limits

import (
	"sync"
	"time"
)

// Limits is the limits emulator: AWS's per-shard throughput limits, error
// injection and account limits, for testing clients' retry logic. The zero
// value emulates nothing (shardlog's default: as fast as the disk allows).
// Change it live with the server's SetLimits.
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

// WithDefaults returns l with its zero rates filled with AWS's.
func (l Limits) WithDefaults() Limits {
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

// Limiter holds the per-shard and per-stream state of the emulator. It is
// safe for concurrent use; a server creates its own.
type Limiter struct {
	now    func() time.Time
	shards sync.Map // shard (any comparable key, a *shard.Shard) -> *bucket
	mu     sync.Mutex
	scale  map[string][]time.Time // stream name -> UpdateShardCount calls in the last 24h
}

// NewLimiter returns a Limiter on the clock now.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{now: now, scale: map[string][]time.Time{}}
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

func (lm *Limiter) bucket(sh any, l *Limits) *bucket {
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

// AdmitWrite reports whether shard sh may take a record of n bytes now, and
// charges it if so.
func (lm *Limiter) AdmitWrite(sh any, n int, l *Limits) bool {
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

// AdmitRead reports whether shard sh may serve a GetRecords call now, and
// charges the call if so; the bytes are charged after the read by
// ChargeRead.
func (lm *Limiter) AdmitRead(sh any, l *Limits) bool {
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

// ChargeRead charges shard sh for n bytes read.
func (lm *Limiter) ChargeRead(sh any, n int, l *Limits) {
	b := lm.bucket(sh, l)
	b.mu.Lock()
	b.readBytes -= float64(n)
	b.mu.Unlock()
}

// AdmitScale reports whether stream may take another UpdateShardCount
// within a rolling day, and records the call if so.
func (lm *Limiter) AdmitScale(stream string, perDay int) bool {
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
