package shard

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
)

var manyShards = flag.Int("manyshards", 0,
	"shards TestManyShards creates (100 per stream); 0 runs the small default size")

// TestManyShards drives a real Store with many shards: it creates streams
// of 100 shards, restarts, puts one 100-byte record into every shard
// through Stream.Put, restarts again and lists every stream, and reports
// open descriptors, resident memory, allocated disk and latencies at each
// step. The default size runs in the ordinary suite and asserts per-shard
// bounds, so that a regression (a descriptor or a mapping kept per idle
// shard, a pre-sized file per empty shard) fails it; -manyshards=100000
// measures the large case:
//
//	go test ./shard/ -run TestManyShards -manyshards=100000 -v -timeout 30m
func TestManyShards(t *testing.T) {
	n, small := *manyShards, *manyShards <= 0
	if small {
		n = 2000
	}
	const perStream = 100
	streams := (n + perStream - 1) / perStream
	n = streams * perStream
	dir := t.TempDir()
	o := DefaultOptions(dir)
	o.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	o.Segment.Logger = o.Logger
	o.ExpireInterval = time.Hour
	if small {
		o.MaxLoadedShards = 500 // exercise making shards dormant again
	}

	fds0, rss0 := openFDs(t), vmRSS(t)
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	var create []time.Duration
	for i := 0; i < streams; i++ {
		began := time.Now()
		if _, err := s.CreateStream(StreamConfig{Name: fmt.Sprintf("many-%05d", i), ShardCount: perStream}); err != nil {
			t.Fatalf("stream %d (%d shards so far): %v", i, i*perStream, err)
		}
		create = append(create, time.Since(began))
	}
	fdsCreated, diskCreated := openFDs(t)-fds0, diskUsed(t, dir)
	t.Logf("%d streams x %d shards: CreateStream p50 %v p99 %v max %v; %d descriptors open; %d KiB on disk (%.1f KiB per empty shard); RSS +%d MiB",
		streams, perStream, pct(create, 50), pct(create, 99), pct(create, 100), fdsCreated,
		diskCreated>>10, float64(diskCreated)/1024/float64(n), (vmRSS(t)-rss0)>>20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	if s, err = Open(o); err != nil {
		t.Fatal(err)
	}
	restart := time.Since(began)
	data := bytes.Repeat([]byte("x"), 100)
	var first []time.Duration
	out := make([]PutResult, 1)
	for _, st := range s.Streams() {
		for _, sh := range st.OpenShards() {
			recs := []Record{{PartitionKey: []byte("k"), Data: data}}
			began := time.Now()
			st.Put(recs, []HashKey{sh.HashRange().Start}, out)
			first = append(first, time.Since(began))
			if out[0].Err != nil {
				t.Fatalf("put to %s/%s: %v", st.Name(), sh.ID(), out[0].Err)
			}
		}
	}
	// The residency loop catches up with a burst of loads asynchronously
	// (loads wait for it only past twice the bound).
	for deadline := time.Now().Add(5 * time.Second); s.res.loaded.Load() > int64(s.opts.MaxLoadedShards) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fdsWritten, rssWritten, diskWritten := openFDs(t)-fds0, vmRSS(t)-rss0, diskUsed(t, dir)
	mapsWritten, loaded := dataMappings(t, dir), s.res.loaded.Load()
	t.Logf("restart %v; first put to each of %d dormant shards: p50 %v p99 %v max %v, total %v; %d descriptors open; %d shards loaded, %d mappings; RSS +%d MiB (%.1f KiB per shard); %d MiB on disk (%.1f KiB per shard)",
		restart, n, pct(first, 50), pct(first, 99), pct(first, 100), sum(first), fdsWritten, loaded, mapsWritten,
		rssWritten>>20, float64(rssWritten)/1024/float64(n), diskWritten>>20, float64(diskWritten)/1024/float64(n))
	if small {
		// Per-shard bounds: nothing held per idle shard (the recently
		// written segments keep at most DefaultOpenFiles descriptors
		// between them), disk and memory that follow the data written.
		if fdsCreated > 16 || fdsWritten > 16+segment.DefaultOpenFiles {
			t.Errorf("%d descriptors open after creating and %d after writing %d shards, want none per shard", fdsCreated, fdsWritten, n)
		}
		if per := diskCreated / int64(n); per >= 64<<10 {
			t.Errorf("an empty shard takes %d bytes of disk, want under 64 KiB", per)
		}
		if per := diskWritten / int64(n); per >= 64<<10 {
			t.Errorf("a shard holding one record takes %d bytes of disk, want under 64 KiB", per)
		}
		if loaded > int64(o.MaxLoadedShards) || mapsWritten > 2*int64(o.MaxLoadedShards) {
			t.Errorf("%d shards loaded with %d mappings, want at most MaxLoadedShards = %d with two mappings each", loaded, mapsWritten, o.MaxLoadedShards)
		}
		if per := rssWritten / int64(n); per >= 64<<10 && !raceEnabled {
			t.Errorf("resident memory grew by %d bytes per shard written once, want under 64 KiB", per)
		}
	}

	began = time.Now()
	if _, err := s.CreateStream(StreamConfig{Name: "many-last", ShardCount: perStream}); err != nil {
		t.Fatal(err)
	}
	createLast := time.Since(began)
	var list []time.Duration
	for _, st := range s.Streams() {
		began := time.Now()
		ids := 0
		for _, sh := range st.Shards() {
			ids += len(sh.ID()) + len(sh.StartingSequenceNumber()) + len(sh.EndingSequenceNumber())
		}
		list = append(list, time.Since(began))
		if ids == 0 {
			t.Fatal("no shards listed")
		}
	}
	t.Logf("with %d shards in the store: CreateStream of %d shards %v; listing a stream's shards p50 %v max %v",
		n, perStream, createLast, pct(list, 50), pct(list, 100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The shards now have segment files: restart and write to each again,
	// which loads it from its files.
	began = time.Now()
	if s, err = Open(o); err != nil {
		t.Fatal(err)
	}
	restartWritten := time.Since(began)
	var again []time.Duration
	for _, st := range s.Streams() {
		for _, sh := range st.OpenShards() {
			recs := []Record{{PartitionKey: []byte("k"), Data: data}}
			began := time.Now()
			st.Put(recs, []HashKey{sh.HashRange().Start}, out)
			again = append(again, time.Since(began))
			if out[0].Err != nil {
				t.Fatalf("second put to %s/%s: %v", st.Name(), sh.ID(), out[0].Err)
			}
			if out[0].Seq != 1 && st.Name() != "many-last" {
				t.Fatalf("second put to %s/%s got position %d, want 1", st.Name(), sh.ID(), out[0].Seq)
			}
		}
	}
	t.Logf("restart with %d written shards %v; first put after it to each: p50 %v p99 %v max %v, total %v; RSS +%d MiB, %d descriptors",
		n, restartWritten, pct(again, 50), pct(again, 99), pct(again, 100), sum(again), (vmRSS(t)-rss0)>>20, openFDs(t)-fds0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("MANYSHARDS restart_written=%v reload_put_p50=%v reload_put_p99=%v\n", restartWritten, pct(again, 50), pct(again, 99))
	fmt.Printf("MANYSHARDS shards=%d create_p99=%v empty_disk_kib_per_shard=%.1f restart=%v first_put_p50=%v first_put_p99=%v fds_after_puts=%d loaded=%d maps=%d rss_after_puts_mib=%d disk_after_puts_mib=%d create_loaded=%v list_max=%v\n",
		n, pct(create, 99), float64(diskCreated)/1024/float64(n), restart, pct(first, 50), pct(first, 99),
		fdsWritten, loaded, mapsWritten, rssWritten>>20, diskWritten>>20, createLast, pct(list, 100))
}

// dataMappings counts the process's memory mappings of files under dir.
func dataMappings(t *testing.T, dir string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	return int64(bytes.Count(b, []byte(" "+dir+"/")))
}

// pct returns the p-th percentile of ds (100: the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}

// vmRSS returns the process's resident set size in bytes.
func vmRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// diskUsed returns the bytes allocated to the files and directories under
// dir (du, not the apparent sizes).
func diskUsed(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
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
