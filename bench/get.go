package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// reader polls one shard with GetRecords from TRIM_HORIZON and accounts
// for every record it reads.
type reader struct {
	o       *Options
	c       *client
	codec   *codec
	rec     *recorder
	stream  string
	shardID string
	tally   *tally
	e2e     bool          // latency is put-to-visible, not per request
	read    *atomic.Int64 // records read by every reader of the run
	// done reports, after an empty answer, whether to stop: get stops at
	// the first empty answer that is not behind; e2e when the producer is
	// done and every acknowledged record was read (or its grace ran out).
	done func(behind bool) bool
	err  error // why the reader gave up, if it did
}

const maxReaderErrors = 20 // consecutive non-throttle errors before a reader gives up

func (r *reader) run(ctx context.Context) {
	var it struct{ ShardIterator string }
	if err := r.c.call("GetShardIterator", map[string]any{
		"StreamName": r.stream, "ShardId": r.shardID, "ShardIteratorType": "TRIM_HORIZON",
	}, &it); err != nil {
		r.err = err
		r.rec.error(errorType(err), 1)
		return
	}
	iterator := []byte(it.ShardIterator)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var buf []byte
	var lat []int64
	size := int64(r.o.RecordBytes)
	errorsInRow, throttles := 0, 0
	for ctx.Err() == nil {
		buf = append(buf[:0], `{"ShardIterator":"`...)
		buf = append(buf, iterator...)
		buf = append(buf, `","Limit":`...)
		buf = strconv.AppendInt(buf, int64(r.o.GetLimit), 10)
		buf = append(buf, '}')
		r.c.prepare(req, "GetRecords", buf)
		t0 := time.Now()
		err := r.c.do(req, resp)
		r.rec.requests.Add(1)
		if err != nil {
			typ := errorType(err)
			r.rec.error(typ, 1)
			if throttled(typ) {
				sleepCtx(ctx, backoff(min(throttles, 4)))
				throttles++
				continue
			}
			if errorsInRow++; errorsInRow >= maxReaderErrors || typ == "ExpiredIteratorException" || typ == "ResourceNotFoundException" {
				r.err = fmt.Errorf("shard %s: GetRecords: %w", r.shardID, err)
				return
			}
			sleepCtx(ctx, 10*time.Millisecond)
			continue
		}
		errorsInRow, throttles = 0, 0
		if !r.e2e {
			r.rec.latency(time.Since(t0))
		}
		body := resp.Body()
		n := int64(0)
		lat = lat[:0]
		eachData(body, func(text []byte) {
			d, err := r.codec.check(text)
			r.tally.add(d, err)
			n++
			if r.e2e && err == nil {
				lat = append(lat, (time.Now().UnixNano()-d.ts)/1000)
			}
		})
		if len(lat) > 0 {
			r.rec.latencies(lat)
		}
		r.rec.records.Add(n)
		r.rec.bytes.Add(n * size)
		r.read.Add(n)
		next := jsonField(body, "NextShardIterator")
		if next == nil {
			return // the shard is closed and read to its end
		}
		iterator = append(iterator[:0], next...)
		if n == 0 {
			behind, _ := strconv.ParseInt(string(jsonField(body, "MillisBehindLatest")), 10, 64)
			if r.done(behind > 0) {
				return
			}
			if r.o.PollSleep > 0 {
				sleepCtx(ctx, r.o.PollSleep)
			}
		}
	}
}
