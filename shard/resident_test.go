package shard

import (
	"bytes"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// unloadNow makes sh dormant the way the residency loop does.
func unloadNow(st *Stream, sh *Shard) bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if !sh.unload() {
		return false
	}
	st.store.res.loaded.Add(-1)
	return true
}

// records reads every record of sh from position 0.
func records(t *testing.T, sh *Shard) []Record {
	t.Helper()
	data, seqs := readAll(t, sh, 0)
	out := make([]Record, len(data))
	for i := range data {
		out[i] = Record{Seq: seqs[i], Data: data[i]}
	}
	return out
}

func TestUnloadedShardResumes(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
		t.Run(string(policy), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t, dir, nil)
			o.Fsync = policy
			s := mustOpen(t, o)
			st := mustCreate(t, s, "idle", 1)
			sh := st.Shards()[0]
			var want [][]byte
			var seqs []uint64
			for i := 0; i < 100; i++ { // 64 KiB segments: several rolls
				want = append(want, payload(i, 2000))
				seqs = append(seqs, put(t, st, "k", want[i])[0].Seq)
			}
			sh.waitSealed()
			if !unloadNow(st, sh) {
				t.Fatal("unload refused an idle shard")
			}
			if sh.Loaded() || len(sh.Segments()) != 0 {
				t.Fatalf("after unload: loaded %v, segments %v", sh.Loaded(), sh.Segments())
			}
			if got := records(t, sh); len(got) != len(want) {
				t.Fatalf("read %d records after unload, want %d", len(got), len(want))
			}
			unloadNow(st, sh)
			want = append(want, payload(100, 2000))
			if r := put(t, st, "k", want[100]); r[0].Seq != seqs[99]+1 {
				t.Fatalf("first put after unload got position %d, want %d (no jump)", r[0].Seq, seqs[99]+1)
			}
			seqs = append(seqs, seqs[99]+1)
			got := records(t, sh)
			for i, r := range got {
				if r.Seq != seqs[i] || !bytes.Equal(r.Data, want[i]) {
					t.Fatalf("record %d: seq %d, data ok %v", i, r.Seq, bytes.Equal(r.Data, want[i]))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			unloadNow(st, sh)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = mustOpen(t, o)
			st, _ = s.Stream("idle")
			if r := put(t, st, "k", payload(101, 10)); r[0].Seq != seqs[100]+1 {
				t.Fatalf("first put after a restart got position %d, want %d", r[0].Seq, seqs[100]+1)
			}
		})
	}
}

// TestUnloadUnderLoad unloads a shard over and over while writers and
// readers use it: every acknowledged record must be read back, in order,
// under the position it was acknowledged with.
func TestUnloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	o.Fsync = FsyncAlways
	s := mustOpen(t, o)
	st := mustCreate(t, s, "busy", 1)
	sh := st.Shards()[0]
	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		unloads  atomic.Int64
		mu       sync.Mutex
		acked    = map[uint64][]byte{}
		deadline = time.Now().Add(time.Second)
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				d := payload(i, 300)
				out := make([]PutResult, 1)
				st.Put([]Record{{PartitionKey: []byte("k"), Data: d}}, []HashKey{HashPartitionKey([]byte("k"))}, out)
				if out[0].Err != nil {
					t.Error(out[0].Err)
					return
				}
				mu.Lock()
				acked[out[0].Seq] = d
				mu.Unlock()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		var res ReadResult
		for pos := uint64(0); !stop.Load(); {
			if err := sh.Read(pos, 100, 1<<20, &res); err != nil {
				t.Error(err)
				return
			}
			for _, r := range res.Records {
				if r.Seq < pos {
					t.Errorf("read position %d, want %d or above", r.Seq, pos)
				}
				pos = r.Seq + 1
			}
			res.Release()
		}
	}()
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if unloadNow(st, sh) {
				unloads.Add(1)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(time.Until(deadline))
	time.Sleep(10 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	got := records(t, sh)
	if len(got) != len(acked) {
		t.Fatalf("read %d records, %d acknowledged", len(got), len(acked))
	}
	for i, r := range got {
		if i > 0 && r.Seq <= got[i-1].Seq || !bytes.Equal(r.Data, acked[r.Seq]) {
			t.Fatalf("record %d: seq %d, data matches %v", i, r.Seq, bytes.Equal(r.Data, acked[r.Seq]))
		}
	}
	if unloads.Load() == 0 {
		t.Fatal("the shard was never unloaded")
	}
	t.Logf("%d records, %d unloads", len(got), unloads.Load())
}

// TestReadingAnEmptyShardCreatesNothing reads and seeks a shard that was
// never written: it must stay without files and mappings until its first
// append, which then gets position 0.
func TestReadingAnEmptyShardCreatesNothing(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	o.LazyFirstSegments = true // no preparer: only the reads could create a file
	s := mustOpen(t, o)
	st := mustCreate(t, s, "empty", 2)
	sh := st.Shards()[0]
	if got := records(t, sh); len(got) != 0 {
		t.Fatalf("read %d records from a new shard", len(got))
	}
	if _, err := sh.TrimHorizon(); err != nil {
		t.Fatal(err)
	}
	if err := sh.Sync(); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(sh.dir, "*")); len(files) != 0 || len(sh.Segments()) != 0 {
		t.Fatalf("after reads of an empty shard: files %v, segments %v", files, sh.Segments())
	}
	unloadNow(st, sh)
	if r := put(t, st, "k", payload(0, 10)); r[0].Shard == sh && r[0].Seq != 0 {
		t.Fatalf("first record at position %d, want 0", r[0].Seq)
	}
}
