package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/shardlog/shardlog/bench"
)

// TestBenchEFO runs `shardlog bench efo` briefly against a real daemon,
// with 1 and then 3 consumers: every consumer must receive every record
// (the run's check), with a put-to-push latency for each.
func TestBenchEFO(t *testing.T) {
	d := startDaemon(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "efo", "--endpoint", d.Endpoint, "--duration", "1s", "--rate", "300",
		"--consumers", "1,3", "--quiet", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("shardlog bench efo: exit %d\n%s\n%s", code, stderr.Bytes(), stdout.Bytes())
	}
	var rs []bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &rs); err != nil {
		t.Fatalf("bench output: %v\n%s", err, stdout.Bytes())
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want one per consumer count", len(rs))
	}
	for i, want := range []int{1, 3} {
		r := rs[i]
		if r.Workload != bench.EFO || r.Consumers != want || len(r.PerConsumer) != want || r.Shards != 1 {
			t.Fatalf("result %d: workload %s, %d consumers (%d latencies), %d shards; want efo, %d, 1 shard",
				i, r.Workload, r.Consumers, len(r.PerConsumer), r.Shards, want)
		}
		if r.Check == nil || !r.Check.OK() || r.Check.Acked < 200 || r.Check.Read != int64(want)*r.Check.Acked {
			t.Fatalf("result %d: check %+v, want every acknowledged record read once by each of %d consumers", i, r.Check, want)
		}
		if r.LatencyKind != "put-to-push" || r.Latency.P99 <= 0 {
			t.Fatalf("result %d: latency %s %+v", i, r.LatencyKind, r.Latency)
		}
		t.Logf("%s: put-to-push p50 %.3f ms, p99 %.3f ms", r.Name, r.Latency.P50, r.Latency.P99)
	}
}

// TestBenchSignsWithEnvCredentials runs `shardlog bench efo` against a
// daemon in auth mode sigv4 with the key in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY: every request, fasthttp's (puts, setup) and
// net/http's (SubscribeToShard), must verify. With --unsigned the dummy
// header (key AKIDBENCH) is refused.
func TestBenchSignsWithEnvCredentials(t *testing.T) {
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSHARDLOGTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "shardlog-test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "efo", "--endpoint", d.Endpoint, "--duration", "1s", "--rate", "300", "--consumers", "1", "--quiet", "--json"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("signed: exit %d\n%s\n%s", code, stderr.Bytes(), stdout.Bytes())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(append(args, "--unsigned"), &stdout, &stderr); code == 0 || !bytes.Contains(stderr.Bytes(), []byte("UnrecognizedClientException")) {
		t.Fatalf("--unsigned: exit %d, want a failure with UnrecognizedClientException\n%s", code, stderr.Bytes())
	}
}

// TestBenchHTTP2 runs `shardlog bench get --http2` briefly against a real
// daemon: PutRecords and the GetRecords drain travel over h2c, and the
// run's check must account for every acknowledged record.
func TestBenchHTTP2(t *testing.T) {
	d := startDaemon(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"bench", "get", "--http2", "--endpoint", d.Endpoint, "--duration", "1s", "--records", "20000",
		"--quiet", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("shardlog bench get --http2: exit %d\n%s\n%s", code, stderr.Bytes(), stdout.Bytes())
	}
	var rs []bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &rs); err != nil {
		t.Fatalf("bench output: %v\n%s", err, stdout.Bytes())
	}
	if len(rs) != 1 || rs[0].Name != "get-100B-h2" {
		t.Fatalf("results %+v, want one run named get-100B-h2", rs)
	}
	if c := rs[0].Check; c == nil || !c.OK() || c.Acked == 0 || c.Read < c.Acked {
		t.Fatalf("check %+v, want every acknowledged record read", c)
	}
	t.Logf("%s: %.0f rec/s", rs[0].Name, rs[0].RecordsPerSec)
}
