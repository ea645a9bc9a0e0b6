package bench

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// body is a pre-encoded PutRecords or PutRecord request. Producing a
// request patches the 32-character base64 header of each record in place.
type body struct {
	buf      []byte
	hdrOff   []int    // offset in buf of each record's Data text
	keys     []string // partition key of each record
	variants []byte   // filler variant of each record
}

// encodeBody builds a request for records with the given keys and
// variants, batch for PutRecords, otherwise PutRecord (one record). Headers
// are left zero until patched.
func encodeBody(c *codec, stream string, batch bool, keys []string, variants []byte) *body {
	b := &body{keys: keys, variants: variants, hdrOff: make([]int, len(keys))}
	streamJSON, _ := json.Marshal(stream)
	buf := make([]byte, 0, 64+len(keys)*(c.b64Len()+48))
	buf = append(buf, `{"StreamName":`...)
	buf = append(buf, streamJSON...)
	if batch {
		buf = append(buf, `,"Records":[`...)
	} else {
		buf = append(buf, ',')
	}
	for i, k := range keys {
		if batch {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '{')
		}
		buf = append(buf, `"Data":"`...)
		b.hdrOff[i] = len(buf)
		buf = append(buf, make([]byte, headerB64)...)
		buf = append(buf, c.fillerB64[variants[i]]...)
		buf = append(buf, `","PartitionKey":"`...)
		buf = append(buf, k...)
		buf = append(buf, '"')
		if batch {
			buf = append(buf, '}')
		}
	}
	if batch {
		buf = append(buf, ']')
	}
	buf = append(buf, '}')
	b.buf = buf
	return b
}

// producer runs the put side of every workload.
type producer struct {
	o      *Options
	c      *client
	codec  *codec
	rec    *recorder
	stream string
	acked  []bitset // by worker; worker w alone writes acked[w]

	remaining atomic.Int64 // records left to claim when o.Records > 0
	slots     atomic.Int64 // pacing slots claimed when o.Rate > 0
	start     time.Time
}

func newProducer(o *Options, c *client, cd *codec, stream string) *producer {
	p := &producer{o: o, c: c, codec: cd, rec: newRecorder(), stream: stream, acked: make([]bitset, o.Conns)}
	p.remaining.Store(o.Records)
	return p
}

// id makes a record id.
func id(worker int, seq uint64) uint64 { return uint64(worker)<<workerShift | seq }

// claim returns how many records the next request of a worker carries, 0
// when the run's record budget is spent.
func (p *producer) claim() int {
	n := p.o.Batch
	if p.o.Records <= 0 {
		return n
	}
	left := p.remaining.Add(int64(-n))
	if left >= 0 {
		return n
	}
	if int64(n)+left > 0 {
		return int(int64(n) + left)
	}
	return 0
}

// pace waits for the next slot of the rate schedule and returns its due
// time, the timestamp its records carry; without a rate it returns now.
func (p *producer) pace(ctx context.Context, n int) (time.Time, bool) {
	if p.o.Rate <= 0 {
		return time.Now(), true
	}
	slot := p.slots.Add(1) - 1
	due := p.start.Add(time.Duration(float64(slot) * float64(n) * float64(time.Second) / float64(p.o.Rate)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return due, false
		case <-t.C:
		}
	}
	return due, true
}

// worker produces until ctx is done or the budget is spent.
func (p *producer) worker(ctx context.Context, w int) {
	rnd := rand.New(rand.NewPCG(p.o.Seed, uint64(w)))
	batch := p.o.Workload != PutOne && p.o.Batch > 1
	const templates = 8
	bodies := make([]*body, templates)
	for i := range bodies {
		keys := make([]string, p.o.Batch)
		variants := make([]byte, p.o.Batch)
		for j := range keys {
			keys[j] = "pk-" + strconv.Itoa(rnd.IntN(p.o.Keys))
			variants[j] = byte(rnd.IntN(fillerVariant))
		}
		bodies[i] = encodeBody(p.codec, p.stream, batch, keys, variants)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var seq uint64
	for k := 0; ctx.Err() == nil; k++ {
		n := p.claim()
		if n == 0 {
			return
		}
		due, ok := p.pace(ctx, n)
		if !ok {
			return
		}
		b := bodies[k%templates]
		if n < p.o.Batch {
			b = encodeBody(p.codec, p.stream, batch, b.keys[:n], b.variants[:n])
		}
		ts := due.UnixNano()
		ids := make([]uint64, n) // small; kept for the rare retry path
		for i := range n {
			ids[i] = id(w, seq)
			p.codec.patch(b.buf[b.hdrOff[i]:], ids[i], ts, 0, b.variants[i])
			seq++
		}
		p.send(ctx, w, req, resp, batch, b, ids, ts)
	}
}

// putRecordsAnswer is PutRecords' answer, decoded only when some failed.
type putRecordsAnswer struct {
	FailedRecordCount int
	Records           []struct{ ErrorCode string }
}

// send delivers the records of b (ids in order), resending throttled ones
// with backoff, and marks the acknowledged ones.
func (p *producer) send(ctx context.Context, w int, req *fasthttp.Request, resp *fasthttp.Response, batch bool, b *body, ids []uint64, ts int64) {
	op := "PutRecord"
	if batch {
		op = "PutRecords"
	}
	size := int64(p.o.RecordBytes)
	for attempt := 0; ; attempt++ {
		p.c.prepare(req, op, b.buf)
		t0 := time.Now()
		err := p.c.do(req, resp)
		if err == nil || isAPIError(err) {
			p.rec.latency(time.Since(t0))
		}
		p.rec.requests.Add(1)
		var retry []int // indexes into ids to resend
		if err != nil {
			typ := errorType(err)
			p.rec.error(typ, 1)
			if !throttled(typ) {
				p.rec.failed.Add(int64(len(ids)))
				return
			}
			retry = make([]int, len(ids))
			for i := range retry {
				retry[i] = i
			}
		} else {
			failed := 0
			if batch {
				fc := jsonField(resp.Body(), "FailedRecordCount")
				failed, _ = strconv.Atoi(string(fc))
			}
			if failed == 0 {
				for _, x := range ids {
					p.acked[w].set(x & seqMask)
				}
				p.rec.records.Add(int64(len(ids)))
				p.rec.bytes.Add(int64(len(ids)) * size)
				return
			}
			var ans putRecordsAnswer
			if json.Unmarshal(resp.Body(), &ans) != nil || len(ans.Records) != len(ids) {
				p.rec.error("BadPutRecordsAnswer", 1)
				p.rec.failed.Add(int64(len(ids)))
				return
			}
			ok := int64(0)
			for i, r := range ans.Records {
				if r.ErrorCode == "" {
					p.acked[w].set(ids[i] & seqMask)
					ok++
					continue
				}
				p.rec.error(r.ErrorCode, 1)
				if throttled(r.ErrorCode) {
					retry = append(retry, i)
				} else {
					p.rec.failed.Add(1)
				}
			}
			p.rec.records.Add(ok)
			p.rec.bytes.Add(ok * size)
		}
		if len(retry) == 0 {
			return
		}
		if attempt >= p.o.MaxRetries {
			p.rec.failed.Add(int64(len(retry)))
			return
		}
		if !sleepCtx(ctx, backoff(attempt)) {
			// The run ended while they waited to be resent: never
			// acknowledged, so not expected back, and not a failure.
			p.rec.unsent.Add(int64(len(retry)))
			return
		}
		p.rec.retries.Add(int64(len(retry)))
		keys := make([]string, len(retry))
		variants := make([]byte, len(retry))
		rids := make([]uint64, len(retry))
		for j, i := range retry {
			keys[j], variants[j], rids[j] = b.keys[i], b.variants[i], ids[i]
		}
		b = encodeBody(p.codec, p.stream, batch, keys, variants)
		for j := range rids {
			p.codec.patch(b.buf[b.hdrOff[j]:], rids[j], ts, flagRetried, variants[j])
		}
		ids = rids
	}
}

func isAPIError(err error) bool {
	_, ok := err.(*APIError)
	return ok
}

// backoff is the pause before resend attempt+1: 10 ms doubling to 1 s,
// with full jitter in its upper half.
func backoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << min(attempt, 7)
	d = min(d, time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleepCtx sleeps for d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ackedCount returns the records acknowledged so far. Call it only after
// the workers have stopped.
func (p *producer) ackedCount() int64 {
	var n int64
	for _, a := range p.acked {
		n += a.count()
	}
	return n
}
