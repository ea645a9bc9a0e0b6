package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/shard"
)

// BenchmarkGetRecordsHTTP reads a page of 1000 records of 100 bytes with
// GetRecords through the real HTTP/1.1 path over loopback, one request at a
// time, with the same TRIM_HORIZON iterator each time (iterators may be
// reused until they expire). Bytes are record data bytes.
func BenchmarkGetRecordsHTTP(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	st := e.createStream("bench", 1)
	recs := make([]shard.Record, 1000)
	keys := make([]shard.HashKey, len(recs))
	for i := range recs {
		recs[i] = shard.Record{Data: bytes.Repeat([]byte{byte(i)}, 100), PartitionKey: []byte("pk-" + strconv.Itoa(i))}
	}
	results := make([]shard.PutResult, len(recs))
	st.Put(recs, keys, results)
	for _, r := range results {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	client := &http.Client{Transport: &http.Transport{}}
	url := "http://" + e.addr + "/"
	call := func(target string, body []byte) []byte {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		shapeAuth(req) // what auth mode none requires
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: status %d %s", target, resp.StatusCode, out)
		}
		return out
	}
	var it struct{ ShardIterator string }
	if err := json.Unmarshal(call("GetShardIterator", []byte(`{"StreamName":"bench","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)), &it); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"ShardIterator": it.ShardIterator, "Limit": 1000})
	b.SetBytes(1000 * 100)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if out := call("GetRecords", body); len(out) < 1000*100 {
			b.Fatalf("short page: %d bytes", len(out))
		}
	}
}

// BenchmarkGetRecordsHandler measures the server's side of GetRecords alone:
// the fasthttp handler answers a full page (Limit 10000, 1 KiB records, as a
// consumer draining a backlog asks) and the response is written out as the
// server writes it to a connection, to io.Discard; no client runs. The
// ns/record metric is the per-record server cost in wall time,
// cpu-ns/record in the process's CPU time.
func BenchmarkGetRecordsHandler(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	const n, size = 10000, 1024
	putBacklog(b, e.createStream("bench", 1), n, size)
	_, body := getRecordsRequest(b, e, "bench", "TRIM_HORIZON", n)
	var in struct {
		ShardIterator string
		Limit         int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		b.Fatal(err)
	}
	for _, r := range requestsInCodecs(e, "GetRecords", in) {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(n * size)
			b.ReportAllocs()
			cpu := serveInLoopTo(b, e, r.req, r.body, io.Discard)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/record")
		})
	}
}

// putBacklog appends n records of size bytes to st's single shard, 500 at
// a time, each with its own partition key.
func putBacklog(b *testing.B, st *shard.Stream, n, size int) {
	b.Helper()
	for i := 0; i < n; i += 500 {
		recs := make([]shard.Record, min(500, n-i))
		keys := make([]shard.HashKey, len(recs))
		for j := range recs {
			recs[j] = shard.Record{Data: bytes.Repeat([]byte{byte(i + j)}, size), PartitionKey: []byte("pk-" + strconv.Itoa(i+j))}
		}
		results := make([]shard.PutResult, len(recs))
		st.Put(recs, keys, results)
		for _, r := range results {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkGetRecordsAtTip measures what a polling consumer that has caught
// up costs the server: GetRecords on a shard with nothing new, answered
// empty with the next iterator, as a tight poll loop sends it over and over.
// allocs/op is what such polling leaves for the garbage collector.
func BenchmarkGetRecordsAtTip(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	putBacklog(b, e.createStream("tip", 1), 10, 100)
	req, body := getRecordsRequest(b, e, "tip", "LATEST", 0)
	b.ReportAllocs()
	serveInLoopTo(b, e, req, body, io.Discard)
}

// getRecordsRequest takes an iterator of the given type for stream's first
// shard and returns a GetRecords request for it, with its body (without
// Limit when limit is 0).
func getRecordsRequest(b *testing.B, e *testEnv, stream, iteratorType string, limit int) (*http.Request, []byte) {
	b.Helper()
	in, _ := json.Marshal(map[string]string{"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": iteratorType})
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", bytes.NewReader(in))
	req.Header.Set("X-Amz-Target", targetPrefix+"GetShardIterator")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	shapeAuth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var it struct{ ShardIterator string }
	if err := json.NewDecoder(resp.Body).Decode(&it); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GetShardIterator: status %d, %v", resp.StatusCode, err)
	}
	req.Header.Set("X-Amz-Target", targetPrefix+"GetRecords")
	shapeAuth(req)
	out := map[string]any{"ShardIterator": it.ShardIterator}
	if limit > 0 {
		out["Limit"] = limit
	}
	body, _ := json.Marshal(out)
	return req, body
}
