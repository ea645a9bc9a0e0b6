package server

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"
)

// TestThrottlingOverTheAPI writes to one shard as fast as it can for about
// two seconds, with the emulator off and then on, and checks the records
// accepted, and that refused records carry AWS's error code per record.
func TestThrottlingOverTheAPI(t *testing.T) {
	e := newEnv(t)
	e.createStream("thr", 1)
	c := e.clients[0]
	recs := make([]map[string]any, 500)
	for i := range recs {
		recs[i] = map[string]any{"PartitionKey": "k", "Data": strings.Repeat("QUJD", 25)} // 75 bytes
	}
	blast := func(d time.Duration) (ok, throttled int, elapsed time.Duration) {
		began := time.Now()
		for time.Since(began) < d {
			r := c.call(t, e.addr, "PutRecords", map[string]any{"StreamName": "thr", "Records": recs})
			if r.status != http.StatusOK {
				t.Fatalf("PutRecords: %d %v", r.status, r.body)
			}
			for _, x := range r.body["Records"].([]any) {
				rec := x.(map[string]any)
				switch rec["ErrorCode"] {
				case nil:
					ok++
				case wire.ThroughputExceeded:
					throttled++
					if msg, _ := rec["ErrorMessage"].(string); !strings.HasPrefix(msg, "Rate exceeded for shard shardId-000000000000 in stream thr under account ") {
						t.Fatalf("ErrorMessage %q", msg)
					}
				default:
					t.Fatalf("unexpected record error %v", rec)
				}
			}
		}
		return ok, throttled, time.Since(began)
	}
	ok, throttled, _ := blast(500 * time.Millisecond)
	if throttled != 0 || ok == 0 {
		t.Fatalf("emulator off: %d accepted, %d throttled; want none throttled", ok, throttled)
	}
	t.Logf("emulator off: %d records accepted in 0.5s", ok)

	e.srv.SetLimits(Limits{Throughput: true})
	ok, throttled, elapsed := blast(2 * time.Second)
	// One second of burst, then 1000 records/s.
	want := float64(AWSWriteRecordsPerSecond) * (1 + elapsed.Seconds())
	if math.Abs(float64(ok)-want) > 0.1*want || throttled == 0 {
		t.Errorf("emulator on: %d accepted (%d throttled) in %v, want %.0f within 10%%", ok, throttled, elapsed, want)
	}
	t.Logf("emulator on: %d accepted, %d throttled in %v (expected %.0f)", ok, throttled, elapsed, want)

	// PutRecord and GetRecords answer the exception itself. A rate of one
	// record a second makes the second PutRecord in a row a sure refusal.
	e.srv.SetLimits(Limits{Throughput: true, WriteRecordsPerSecond: 1})
	c.call(t, e.addr, "PutRecord", map[string]any{"StreamName": "thr", "PartitionKey": "k", "Data": "QUJD"})
	r := c.call(t, e.addr, "PutRecord", map[string]any{"StreamName": "thr", "PartitionKey": "k", "Data": "QUJD"})
	if r.status != 400 || r.body["__type"] != wire.ThroughputExceeded {
		t.Errorf("PutRecord on an exhausted shard: %d %v", r.status, r.body)
	}
	it := c.call(t, e.addr, "GetShardIterator", map[string]any{"StreamName": "thr", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
	reads := 0
	for i := 0; i < 10; i++ {
		r := c.call(t, e.addr, "GetRecords", map[string]any{"ShardIterator": it.body["ShardIterator"], "Limit": 1})
		if r.status == 200 {
			reads++
		} else if r.body["__type"] != wire.ThroughputExceeded {
			t.Fatalf("GetRecords: %d %v", r.status, r.body)
		}
	}
	if reads != AWSReadCallsPerSecond {
		t.Errorf("%d of 10 immediate GetRecords served, want %d", reads, AWSReadCallsPerSecond)
	}
	m := scrape(t, c, e.addr)
	if m[`kinesis_WriteProvisionedThroughputExceeded{stream="thr"}`] < float64(throttled) || m[`kinesis_ReadProvisionedThroughputExceeded{stream="thr"}`] != 5 {
		t.Errorf("throttle metrics: write %v (want >= %d), read %v (want 5)",
			m[`kinesis_WriteProvisionedThroughputExceeded{stream="thr"}`], throttled, m[`kinesis_ReadProvisionedThroughputExceeded{stream="thr"}`])
	}
}

func TestErrorInjection(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits.ErrorProbability = 1 })
	c := e.clients[0]
	if r := c.call(t, e.addr, "ListStreams", map[string]any{}); r.status != 500 || r.body["__type"] != wire.InternalFailureType {
		t.Errorf("probability 1: %d %v", r.status, r.body)
	}
	e.srv.SetLimits(Limits{ErrorProbability: 0})
	for i := 0; i < 20; i++ {
		if r := c.call(t, e.addr, "ListStreams", map[string]any{}); r.status != 200 {
			t.Fatalf("probability 0: %d %v", r.status, r.body)
		}
	}
}

func TestAccountLimits(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits = Limits{ConsumersPerStream: 1, UpdateShardCountPerDay: 1} })
	st := e.createStream("acct", 1)
	c := e.clients[0]
	reg := func(name string) rawResponse {
		return c.call(t, e.addr, "RegisterStreamConsumer", map[string]any{"StreamARN": st.ARN(), "ConsumerName": name})
	}
	if r := reg("one"); r.status != 200 {
		t.Fatalf("first consumer: %d %v", r.status, r.body)
	}
	if r := reg("two"); r.status != 400 || r.body["__type"] != wire.LimitExceeded {
		t.Errorf("second consumer past a limit of 1: %d %v", r.status, r.body)
	}
	scale := func(n int) rawResponse {
		return c.call(t, e.addr, "UpdateShardCount", map[string]any{"StreamName": "acct", "TargetShardCount": n, "ScalingType": "UNIFORM_SCALING"})
	}
	if r := scale(2); r.status != 200 {
		t.Fatalf("first UpdateShardCount: %d %v", r.status, r.body)
	}
	if r := scale(1); r.status != 400 || r.body["__type"] != wire.LimitExceeded {
		t.Errorf("second UpdateShardCount in a day past a limit of 1: %d %v", r.status, r.body)
	}
}
