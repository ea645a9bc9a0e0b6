package main

import (
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestScale10000Shards is the scale benchmark, run only with
// SHARDLOG_SCALE=1 (it takes minutes): 2,500 streams of 4 shards are
// created through the API, each shard gets one record, the daemon is
// stopped and started again, and the start-up time and resident memory
// (VmRSS from /proc) after the restart and after reading every shard are
// reported. SHARDLOG_SCALE_STREAMS changes the stream count.
//
//	SHARDLOG_SCALE=1 go test -run TestScale10000Shards -v -timeout 60m ./cmd/shardlog
func TestScale10000Shards(t *testing.T) {
	if os.Getenv("SHARDLOG_SCALE") != "1" {
		t.Skip("set SHARDLOG_SCALE=1 to run the 10,000-shard benchmark")
	}
	streams := 2500
	if n, err := strconv.Atoi(os.Getenv("SHARDLOG_SCALE_STREAMS")); err == nil && n > 0 {
		streams = n
	}
	const perStream = 4
	dir := t.TempDir() + "/data"
	cfg := "" // info: the harness waits for the start line
	// Streams are made in batches with a restart between them
	// (SHARDLOG_SCALE_BATCH, default 1,250 streams = 5,000 shards): a shard
	// created or written keeps its two files open until the daemon restarts,
	// and 10,000 shards' 20,000 files pass the open-file limit of a
	// container that cannot raise it (the unit sets LimitNOFILE=1048576).
	batch := 1250
	if n, err := strconv.Atoi(os.Getenv("SHARDLOG_SCALE_BATCH")); err == nil && n > 0 {
		batch = n
	}
	// One record per shard: explicit hash keys at the start of each quarter.
	keys := make([]string, perStream)
	for s := range keys {
		keys[s] = quarterKey(s, perStream)
	}
	var d *daemon
	var created, written time.Duration
	for first := 0; first < streams; first += batch {
		if d != nil {
			d.stop(t)
		}
		d = startDaemonConfig(t, dir, cfg)
		c := newAPIClient(d.Endpoint)
		n := min(batch, streams-first)
		began := time.Now()
		parallel(t, n, func(i int) error {
			return c.call("CreateStream", map[string]any{"StreamName": fmt.Sprintf("scale-%05d", first+i), "ShardCount": perStream}, nil)
		})
		created += time.Since(began)
		began = time.Now()
		parallel(t, n, func(i int) error {
			recs := make([]map[string]any, perStream)
			for s := range recs {
				recs[s] = map[string]any{"PartitionKey": "k", "ExplicitHashKey": keys[s], "Data": "aGVsbG8="}
			}
			var out struct{ FailedRecordCount int }
			if err := c.call("PutRecords", map[string]any{"StreamName": fmt.Sprintf("scale-%05d", first+i), "Records": recs}, &out); err != nil {
				return err
			}
			if out.FailedRecordCount != 0 {
				return fmt.Errorf("%d records failed", out.FailedRecordCount)
			}
			return nil
		})
		written += time.Since(began)
	}
	rssBefore := vmRSS(t, d.cmd.Process.Pid)
	d.stop(t)

	began := time.Now()
	d = startDaemonConfig(t, dir, cfg)
	startup := time.Since(began)
	rssStarted := vmRSS(t, d.cmd.Process.Pid)
	t.Logf("%d streams x %d shards = %d shards: created in %v, written in %v; RSS before restart %d MiB",
		streams, perStream, streams*perStream, created.Round(time.Millisecond), written.Round(time.Millisecond), rssBefore>>20)
	t.Logf("restart: %v to serving (daemon's own recovery: %.0f ms), RSS after start %d MiB",
		startup.Round(time.Millisecond), d.Started.Took, rssStarted>>20)
	fmt.Printf("SCALE shards=%d startup=%v recovery_ms=%.0f rss_started_mib=%d rss_before_restart_mib=%d\n",
		streams*perStream, startup.Round(time.Millisecond), d.Started.Took, rssStarted>>20, rssBefore>>20)
	if startup > 5*time.Second || rssStarted > 1<<30 {
		t.Errorf("aim missed: start-up %v (aim < 5s), RSS %d MiB (aim < 1024)", startup, rssStarted>>20)
	}
}

// quarterKey is the first hash key of shard s of n even shards, decimal.
func quarterKey(s, n int) string {
	v := new(big.Int).Lsh(big.NewInt(1), 128)
	v.Div(v, big.NewInt(int64(n)))
	return v.Mul(v, big.NewInt(int64(s))).String()
}

// parallel runs f(0..n-1) on 8 workers and fails t on the first error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					select {
					case errs <- fmt.Errorf("item %d: %w", i, err):
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// vmRSS returns the resident set size of pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
