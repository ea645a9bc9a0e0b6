package bench

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fake is a tiny in-memory Kinesis: one stream at a time, enough of the
// API for the workloads, with knobs to throttle and corrupt.
type fake struct {
	mu       sync.Mutex
	shards   [][][]byte // records (raw data) per shard
	puts     int
	throttle bool // fail every third record of PutRecords once with a throttle
	refuse   bool // throttle every record of PutRecords
	corrupt  bool // flip a bit of the second record read
	reads    int
}

func startFake(t *testing.T, f *fake) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: f.handle}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func (f *fake) handle(ctx *fasthttp.RequestCtx) {
	op := strings.TrimPrefix(string(ctx.Request.Header.Peek("X-Amz-Target")), targetPrefix)
	if len(ctx.Request.Header.Peek("Authorization")) == 0 {
		ctx.SetStatusCode(400)
		ctx.SetBodyString(`{"__type":"MissingAuthenticationTokenException"}`)
		return
	}
	var in struct {
		ShardCount int
		Records    []struct {
			Data         []byte
			PartitionKey string
		}
		Data          []byte
		PartitionKey  string
		ShardId       string
		ShardIterator string
		Limit         int
	}
	_ = json.Unmarshal(ctx.PostBody(), &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	route := func(key string) int {
		h := fnv.New32a()
		h.Write([]byte(key))
		return int(h.Sum32()) % len(f.shards)
	}
	var out any
	switch op {
	case "CreateStream":
		f.shards = make([][][]byte, in.ShardCount)
		out = struct{}{}
	case "DescribeStream":
		var shards []map[string]any
		for i := range f.shards {
			shards = append(shards, map[string]any{"ShardId": fmt.Sprintf("shardId-%012d", i), "SequenceNumberRange": map[string]any{}})
		}
		out = map[string]any{"StreamDescription": map[string]any{"StreamStatus": "ACTIVE", "Shards": shards, "HasMoreShards": false}}
	case "DeleteStream", "ListStreams":
		out = map[string]any{"StreamNames": []string{}}
	case "PutRecord":
		s := route(in.PartitionKey)
		f.shards[s] = append(f.shards[s], in.Data)
		out = map[string]any{"ShardId": "x", "SequenceNumber": "1"}
	case "PutRecords":
		f.puts++
		failed := 0
		var recs []map[string]any
		for i, r := range in.Records {
			if f.throttle && f.puts == 1 && i%3 == 0 || f.refuse {
				failed++
				recs = append(recs, map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"})
				continue
			}
			s := route(r.PartitionKey)
			f.shards[s] = append(f.shards[s], r.Data)
			recs = append(recs, map[string]any{"ShardId": "x", "SequenceNumber": "1"})
		}
		out = map[string]any{"FailedRecordCount": failed, "Records": recs}
	case "GetShardIterator":
		n, _ := strconv.Atoi(strings.TrimPrefix(in.ShardId, "shardId-"))
		out = map[string]any{"ShardIterator": fmt.Sprintf("%d:0", n)}
	case "GetRecords":
		var s, pos int
		fmt.Sscanf(in.ShardIterator, "%d:%d", &s, &pos)
		end := min(len(f.shards[s]), pos+in.Limit)
		var recs []map[string]any
		for _, d := range f.shards[s][pos:end] {
			if f.reads++; f.corrupt && f.reads == 2 {
				d = append([]byte(nil), d...)
				d[len(d)-1] ^= 1
			}
			recs = append(recs, map[string]any{"SequenceNumber": "1", "PartitionKey": "k", "Data": d})
		}
		out = map[string]any{"Records": recs, "NextShardIterator": fmt.Sprintf("%d:%d", s, end), "MillisBehindLatest": 0}
	default:
		ctx.SetStatusCode(400)
		ctx.SetBodyString(`{"__type":"UnknownOperationException"}`)
		return
	}
	b, _ := json.Marshal(out)
	ctx.SetBody(b)
}

func TestRunAgainstFake(t *testing.T) {
	base := Options{Shards: 3, Conns: 2, Duration: 300 * time.Millisecond, RecordBytes: 64, Batch: 50, Keys: 20}
	t.Run("get with throttles", func(t *testing.T) {
		f := &fake{throttle: true}
		o := base
		o.Workload, o.Endpoint, o.Records = Get, startFake(t, f), 1000
		r, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Check.Acked != 1000 || r.Records != 1000 || r.Retries != 17 {
			t.Fatalf("result %+v check %+v", r, r.Check)
		}
		if r.Errors["ProvisionedThroughputExceededException"] != 17 {
			t.Fatalf("errors %v", r.Errors)
		}
	})
	t.Run("records still throttled at the end are unsent, not failed", func(t *testing.T) {
		o := base
		o.Workload, o.Endpoint, o.MaxRetries = Put, startFake(t, &fake{refuse: true}), 1000
		r, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Unsent == 0 || r.Failed != 0 || r.Retries == 0 || !strings.Contains(r.Problems(), "unsent×") {
			t.Fatalf("unsent %d failed %d retries %d: %s", r.Unsent, r.Failed, r.Retries, r.Problems())
		}
	})
	t.Run("corruption fails the run", func(t *testing.T) {
		o := base
		o.Workload, o.Endpoint, o.Records = Get, startFake(t, &fake{corrupt: true}), 200
		r, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() || r.Check.Corrupt != 1 || r.Check.Missing != 1 {
			t.Fatalf("check %+v", r.Check)
		}
	})
	t.Run("putone", func(t *testing.T) {
		o := base
		o.Workload, o.Endpoint = PutOne, startFake(t, &fake{})
		// The fake serves from this process, so its CPU is the "server's".
		o.ServerPID = os.Getpid()
		r, err := Run(t.Context(), o)
		if err != nil || !r.OK() || r.Requests != r.Records || r.Latency.Count == 0 {
			t.Fatalf("%+v %v", r, err)
		}
		// Per-record and per-MB costs are the same CPU time as the
		// percentage, divided differently.
		used := r.ServerCPU / 100 * r.Seconds * 1e6 // µs
		if r.ServerMicrosPerRecord <= 0 || math.Abs(r.ServerMicrosPerRecord*float64(r.Records)-used) > used/100 ||
			math.Abs(r.ServerMillisPerMB*1e3*float64(r.Bytes)/1e6-used) > used/100 {
			t.Fatalf("server %.0f%% over %.3fs: %.3f µs/record × %d, %.3f ms/MB × %d bytes", r.ServerCPU, r.Seconds,
				r.ServerMicrosPerRecord, r.Records, r.ServerMillisPerMB, r.Bytes)
		}
	})
	t.Run("e2e", func(t *testing.T) {
		o := base
		o.Workload, o.Endpoint, o.Rate = E2E, startFake(t, &fake{}), 500
		r, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Check.Acked < 100 || r.Latency.Count != r.Check.Acked || r.LatencyKind != "put-to-visible" || r.ServerMicrosPerRecord != -1 {
			t.Fatalf("result %+v check %+v", r, r.Check)
		}
		var b strings.Builder
		WriteTable(&b, []*Result{r})
		if err := WriteHTML(&b, "t", []*Result{r}); err != nil || !strings.Contains(b.String(), "check ok") {
			t.Fatalf("reports: %v\n%s", err, b.String())
		}
	})
}
