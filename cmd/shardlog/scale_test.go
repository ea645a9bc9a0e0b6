package main

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestScaleManyShards is the many-shards benchmark against a real daemon,
// run only with SHARDLOG_SCALE=1 (it takes minutes): SHARDLOG_SCALE_STREAMS
// streams (default 100) of SHARDLOG_SCALE_SHARDS shards each (default 100)
// are created through the API, every shard gets one record (one PutRecords
// per stream), the daemon is restarted and every shard gets a second
// record. It reports CreateStream and ListShards latencies, the daemon's
// open descriptors, memory mappings and resident memory (from /proc), the
// disk the data directory takes, the restart time and the PutRecords
// latencies; and checks the aims: start-up under 10 s, resident memory
// under 2 GiB, no descriptor per shard, under 64 KiB of disk per shard.
//
//	SHARDLOG_SCALE=1 SHARDLOG_SCALE_STREAMS=1000 go test -run TestScaleManyShards -v -timeout 60m ./cmd/shardlog
func TestScaleManyShards(t *testing.T) {
	if os.Getenv("SHARDLOG_SCALE") != "1" {
		t.Skip("set SHARDLOG_SCALE=1 to run the many-shards benchmark")
	}
	streams, perStream := 100, 100
	if n, err := strconv.Atoi(os.Getenv("SHARDLOG_SCALE_STREAMS")); err == nil && n > 0 {
		streams = n
	}
	if n, err := strconv.Atoi(os.Getenv("SHARDLOG_SCALE_SHARDS")); err == nil && n > 0 {
		perStream = n
	}
	shards := streams * perStream
	dir := t.TempDir() + "/data"
	// Log level info: the harness waits for the start line.
	cfg := fmt.Sprintf("limits:\n  shard_limit: %d\n", shards+2*perStream)
	keys := make([]string, perStream) // one record per shard: the start of its range
	for s := range keys {
		keys[s] = quarterKey(s, perStream)
	}
	name := func(i int) string { return fmt.Sprintf("scale-%05d", i) }
	putAll := func(c *apiClient) []time.Duration {
		lat := make([]time.Duration, streams)
		parallel(t, streams, func(i int) error {
			recs := make([]map[string]any, perStream)
			for s := range recs {
				recs[s] = map[string]any{"PartitionKey": "k", "ExplicitHashKey": keys[s], "Data": base64.StdEncoding.EncodeToString(make([]byte, 100))}
			}
			var out struct{ FailedRecordCount int }
			began := time.Now()
			if err := c.call("PutRecords", map[string]any{"StreamName": name(i), "Records": recs}, &out); err != nil {
				return err
			}
			lat[i] = time.Since(began)
			if out.FailedRecordCount != 0 {
				return fmt.Errorf("%d records failed", out.FailedRecordCount)
			}
			return nil
		})
		return lat
	}

	d := startDaemonConfig(t, dir, cfg)
	c := newAPIClient(d.Endpoint)
	create := make([]time.Duration, streams)
	began := time.Now()
	for i := range create { // one at a time: the latency of one call
		began := time.Now()
		c.mustCall(t, "CreateStream", map[string]any{"StreamName": name(i), "ShardCount": perStream}, nil)
		create[i] = time.Since(began)
	}
	created := time.Since(began)
	pid := d.cmd.Process.Pid
	fdsEmpty, diskEmpty := procCount(t, pid, "fd"), du(t, dir)
	t.Logf("%d streams x %d shards = %d shards created in %v: CreateStream p50 %v p99 %v; %d descriptors; %.1f KiB of disk per empty shard",
		streams, perStream, shards, created.Round(time.Millisecond), pctl(create, 50), pctl(create, 99), fdsEmpty, float64(diskEmpty)/1024/float64(shards))
	c.mustCall(t, "CreateStream", map[string]any{"StreamName": "scale-fresh", "ShardCount": perStream}, nil)
	prepared := waitPrepared(t, filepath.Join(dir, "streams", "s_scale-fresh"), perStream)
	fresh := firstWrites(t, c, "scale-fresh", keys) // never written
	t.Logf("first write (PutRecord) to a shard never written: p50 %v p99 %v (its stream's first segments prepared %v after its CreateStream, behind %d shards created before it)",
		pctl(fresh, 50), pctl(fresh, 99), prepared.Round(time.Millisecond), shards)
	began = time.Now()
	put := putAll(c)
	t.Logf("one record into each shard in %v: PutRecords of %d records p50 %v p99 %v; %d descriptors, %d mappings, RSS %d MiB, %.1f KiB of disk per shard",
		time.Since(began).Round(time.Millisecond), perStream, pctl(put, 50), pctl(put, 99),
		procCount(t, pid, "fd"), procLines(t, pid, "maps"), vmRSS(t, pid)>>20, float64(du(t, dir))/1024/float64(shards))
	d.stop(t)

	began = time.Now()
	d = startDaemonConfig(t, dir, cfg)
	startup := time.Since(began)
	pid = d.cmd.Process.Pid
	c = newAPIClient(d.Endpoint)
	rssStarted := vmRSS(t, pid)
	c.mustCall(t, "ListStreams", map[string]any{}, nil) // a connection, so that the first put does not pay for it
	dormant := firstWrites(t, c, name(0), keys)         // written before the restart, not since
	loaded := firstWrites(t, c, name(0), keys)          // the same shards again, now loaded
	t.Logf("first write (PutRecord) to a dormant shard written before the restart: p50 %v p99 %v; the next write to each: p50 %v p99 %v",
		pctl(dormant, 50), pctl(dormant, 99), pctl(loaded, 50), pctl(loaded, 99))
	began = time.Now()
	again := putAll(c)
	t.Logf("restart: %v to serving (daemon's own recovery: %.0f ms), RSS %d MiB; a second record into each shard in %v: PutRecords p50 %v p99 %v",
		startup.Round(time.Millisecond), d.Started.Took, rssStarted>>20, time.Since(began).Round(time.Millisecond), pctl(again, 50), pctl(again, 99))
	list := make([]time.Duration, streams)
	for i := range list {
		var out struct{ Shards []any }
		began := time.Now()
		c.mustCall(t, "ListShards", map[string]any{"StreamName": name(i)}, &out)
		list[i] = time.Since(began)
		if len(out.Shards) != perStream {
			t.Fatalf("ListShards: %d shards, want %d", len(out.Shards), perStream)
		}
	}
	began = time.Now()
	c.mustCall(t, "CreateStream", map[string]any{"StreamName": "scale-last", "ShardCount": perStream}, nil)
	createLast := time.Since(began)
	fds, maps, rss, disk := procCount(t, pid, "fd"), procLines(t, pid, "maps"), vmRSS(t, pid), du(t, dir)
	t.Logf("with %d shards: ListShards p50 %v p99 %v, CreateStream of %d shards %v; %d descriptors, %d mappings, RSS %d MiB, %.1f KiB of disk per shard",
		shards, pctl(list, 50), pctl(list, 99), perStream, createLast, fds, maps, rss>>20, float64(disk)/1024/float64(shards))
	fmt.Printf("SCALE shards=%d create_p99=%v startup=%v put_after_restart_p50=%v put_after_restart_p99=%v first_write_dormant_p99=%v first_write_fresh_p99=%v list_p99=%v fds=%d maps=%d rss_mib=%d disk_kib_per_shard=%.1f\n",
		shards, pctl(create, 99), startup.Round(time.Millisecond), pctl(again, 50), pctl(again, 99), pctl(dormant, 99), pctl(fresh, 99), pctl(list, 99), fds, maps, rss>>20, float64(disk)/1024/float64(shards))
	if startup > 10*time.Second || rss > 2<<30 || fds > 1000 || disk/int64(shards) >= 64<<10 {
		t.Errorf("aim missed: start-up %v (aim < 10s), RSS %d MiB (aim < 2048), %d descriptors (aim: none per shard), %d bytes of disk per shard (aim < 64 KiB)",
			startup, rss>>20, fds, disk/int64(shards))
	}
}

// firstWrites puts one record into each shard of the stream, one
// PutRecord at a time (keys[s] routes to shard s), and returns the
// latency of each call.
func firstWrites(t *testing.T, c *apiClient, stream string, keys []string) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, len(keys))
	data := base64.StdEncoding.EncodeToString(make([]byte, 100))
	for s, key := range keys {
		began := time.Now()
		c.mustCall(t, "PutRecord", map[string]any{"StreamName": stream, "PartitionKey": "k", "ExplicitHashKey": key, "Data": data}, nil)
		lat[s] = time.Since(began)
	}
	return lat
}

// waitPrepared waits until each of the n shard directories of the stream
// in dir holds a segment (the daemon prepares them in the background after
// CreateStream), for at most 10 s, and returns how long that took.
func waitPrepared(t *testing.T, dir string, n int) time.Duration {
	t.Helper()
	began := time.Now()
	for {
		segs, err := filepath.Glob(filepath.Join(dir, "shardId-*", "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) >= n {
			return time.Since(began)
		}
		if time.Since(began) > 10*time.Second {
			t.Logf("only %d of %d first segments prepared after 10 s", len(segs), n)
			return time.Since(began)
		}
		time.Sleep(time.Millisecond)
	}
}

// pctl returns the p-th percentile of ds.
func pctl(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

// procCount counts the entries of /proc/<pid>/<dir> (fd: open descriptors).
func procCount(t *testing.T, pid int, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/%s", pid, dir))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// procLines counts the lines of /proc/<pid>/<file> (maps: memory mappings).
func procLines(t *testing.T, pid int, file string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// du returns the bytes allocated under dir.
func du(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
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
