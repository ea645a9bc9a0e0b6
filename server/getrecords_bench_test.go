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
