package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// scrape GETs /metrics over client c and parses the Prometheus text format
// into sample name (with labels, as written) -> value.
func scrape(t *testing.T, c testClient, addr string) map[string]float64 {
	t.Helper()
	resp, err := c.http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return parseMetrics(t, resp.Body)
}

// parseMetrics parses Prometheus text exposition: comments, then one
// "name{labels} value" sample per line.
func parseMetrics(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in metrics line %q: %v", line, err)
		}
		name := line[:i]
		if _, dup := out[name]; dup {
			t.Fatalf("sample %s twice", name)
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMetricsChangeAsRecordsFlow(t *testing.T) {
	e := newEnv(t)
	e.createStream("metered", 2)
	e.each(t, func(t *testing.T, c testClient) {
		before := scrape(t, c, e.addr)
		const label = `{stream="metered"}`
		for i := 0; i < 3; i++ {
			if r := c.call(t, e.addr, "PutRecord", map[string]any{"StreamName": "metered", "PartitionKey": "k" + strconv.Itoa(i), "Data": "aGVsbG8="}); r.status != 200 {
				t.Fatalf("PutRecord: %d %v", r.status, r.body)
			}
		}
		recs := []map[string]any{}
		for i := 0; i < 5; i++ {
			recs = append(recs, map[string]any{"PartitionKey": "p" + strconv.Itoa(i), "Data": "d29ybGQh"})
		}
		if r := c.call(t, e.addr, "PutRecords", map[string]any{"StreamName": "metered", "Records": recs}); r.status != 200 {
			t.Fatalf("PutRecords: %d %v", r.status, r.body)
		}
		after := scrape(t, c, e.addr)
		delta := func(name string) float64 { return after["kinesis_"+name+label] - before["kinesis_"+name+label] }
		want := func(name string, v float64) {
			t.Helper()
			if got := delta(name); got != v {
				t.Errorf("%s grew by %v, want %v", name, got, v)
			}
		}
		// PutRecord: 3 x (5 data bytes + 2 key bytes); PutRecords: 5 x (6 + 2).
		want("IncomingRecords", 8)
		want("IncomingBytes", 3*7+5*8)
		want("PutRecord_Success", 3)
		want("PutRecord_Latency_count", 3)
		want("PutRecords_TotalRecords", 5)
		want("PutRecords_SuccessfulRecords", 5)
		want("PutRecords_Success", 1)
		want("WriteProvisionedThroughputExceeded", 0)

		// Read both shards from the start.
		got := 0.0
		for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
			it := c.call(t, e.addr, "GetShardIterator", map[string]any{"StreamName": "metered", "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"})
			r := c.call(t, e.addr, "GetRecords", map[string]any{"ShardIterator": it.body["ShardIterator"]})
			if r.status != 200 {
				t.Fatalf("GetRecords: %d %v", r.status, r.body)
			}
			got += float64(len(r.body["Records"].([]any)))
		}
		after = scrape(t, c, e.addr)
		if d := delta("GetRecords_Records"); d != got || got < 8 {
			t.Errorf("GetRecords_Records grew by %v; the reads returned %v", d, got)
		}
		if d := delta("GetRecords_Success"); d != 2 {
			t.Errorf("GetRecords_Success grew by %v, want 2", d)
		}
		if _, ok := after["kinesis_GetRecords_IteratorAgeMilliseconds"+label]; !ok {
			t.Error("no GetRecords_IteratorAgeMilliseconds")
		}
	})
}

func TestMetricsPerShardWhenEnhancedMonitoringAsks(t *testing.T) {
	e := newEnv(t)
	e.createStream("enh", 1)
	c := e.clients[0]
	put := func() {
		t.Helper()
		if r := c.call(t, e.addr, "PutRecord", map[string]any{"StreamName": "enh", "PartitionKey": "k", "Data": "aGVsbG8="}); r.status != 200 {
			t.Fatalf("PutRecord: %d %v", r.status, r.body)
		}
	}
	const shardIncoming = `kinesis_shard_IncomingRecords{stream="enh",shard="shardId-000000000000"}`
	put()
	if _, ok := scrape(t, c, e.addr)[shardIncoming]; ok {
		t.Fatal("shard-level metric present before EnableEnhancedMonitoring")
	}
	if r := c.call(t, e.addr, "EnableEnhancedMonitoring", map[string]any{"StreamName": "enh", "ShardLevelMetrics": []string{"IncomingRecords"}}); r.status != 200 {
		t.Fatalf("EnableEnhancedMonitoring: %d %v", r.status, r.body)
	}
	put()
	put()
	m := scrape(t, c, e.addr)
	if m[shardIncoming] != 2 {
		t.Errorf("%s = %v, want 2", shardIncoming, m[shardIncoming])
	}
	if _, ok := m[`kinesis_shard_IncomingBytes{stream="enh",shard="shardId-000000000000"}`]; ok {
		t.Error("IncomingBytes per shard was not asked for")
	}
	if r := c.call(t, e.addr, "DisableEnhancedMonitoring", map[string]any{"StreamName": "enh", "ShardLevelMetrics": []string{"ALL"}}); r.status != 200 {
		t.Fatalf("DisableEnhancedMonitoring: %d %v", r.status, r.body)
	}
	if _, ok := scrape(t, c, e.addr)[shardIncoming]; ok {
		t.Error("shard-level metric still present after DisableEnhancedMonitoring")
	}
	// A deleted stream's metrics go away.
	if r := c.call(t, e.addr, "DeleteStream", map[string]any{"StreamName": "enh"}); r.status != 200 {
		t.Fatalf("DeleteStream: %d %v", r.status, r.body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, ok := scrape(t, c, e.addr)[`kinesis_IncomingRecords{stream="enh"}`]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("metrics of a deleted stream remain")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		get := func(path string) int {
			t.Helper()
			resp, err := c.http.Get("http://" + e.addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		e.srv.SetReady(false)
		if s := get("/healthz"); s != 200 {
			t.Errorf("/healthz = %d", s)
		}
		if s := get("/readyz"); s != 503 {
			t.Errorf("/readyz before SetReady = %d, want 503", s)
		}
		e.srv.SetReady(true)
		if s := get("/readyz"); s != 200 {
			t.Errorf("/readyz after SetReady = %d, want 200", s)
		}
		// The API itself is unchanged: GET / is still refused as AWS does.
		if r := c.post(t, e.addr, http.MethodGet, targetPrefix+"ListStreams", "application/x-amz-json-1.1", nil); r.status == 200 {
			t.Errorf("GET / answered 200")
		}
	})
}

// TestStandbyHandoff: during recovery the port answers health checks and
// refuses API calls with a retryable 503; after Handoff the real server
// answers on the same port.
func TestStandbyHandoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	sb := NewStandby(ln, nil)
	hc := &http.Client{Timeout: 5 * time.Second}
	status := func(method, path, target string) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader("{}"))
		if target != "" {
			req.Header.Set("X-Amz-Target", targetPrefix+target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			shapeAuth(req)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status("GET", "/healthz", ""); s != 200 {
		t.Errorf("standby /healthz = %d", s)
	}
	if s := status("GET", "/readyz", ""); s != 503 {
		t.Errorf("standby /readyz = %d, want 503", s)
	}
	if s := status("POST", "/", "ListStreams"); s != 503 {
		t.Errorf("standby API call = %d, want 503", s)
	}

	e := &testEnv{t: t, dir: t.TempDir(), opts: Options{Logger: zerolog.New(zerolog.NewTestWriter(t))}}
	e.start() // a store and server on their own port; we serve the handed-off one too
	t.Cleanup(e.stop)
	served := make(chan error, 1)
	live := sb.Handoff() // before readiness, as serve does: no request may reach the standby after it
	go func() { served <- e.srv.Serve(live) }()
	e.srv.SetReady(true)
	if s := status("GET", "/readyz", ""); s != 200 {
		t.Errorf("/readyz after handoff = %d, want 200", s)
	}
	if s := status("POST", "/", "ListStreams"); s != 200 {
		t.Errorf("API call after handoff = %d, want 200", s)
	}
}
