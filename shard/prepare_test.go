package shard

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/shardlog/shardlog/segment"
)

// segmentFiles returns the names of the data files in the shard's
// directory.
func segmentFiles(t *testing.T, sh *Shard) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sh.dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// TestNewShardsGetTheirFirstSegmentAhead checks that the preparer creates
// the first segment of every new shard (CreateStream and a split), that a
// dormant shard stays dormant, and that the first records take the
// shard's first positions, also after a clean restart.
func TestNewShardsGetTheirFirstSegmentAhead(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "fresh", 3)
	s.prep.wait()
	first := segment.Name(0)
	for _, sh := range st.Shards() {
		if files := segmentFiles(t, sh); len(files) != 1 || files[0] != first {
			t.Fatalf("%s after preparation: %v, want [%s]", sh.ID(), files, first)
		}
		if sh.Loaded() {
			t.Fatalf("%s was loaded by its preparation", sh.ID())
		}
	}
	r := put(t, st, "a", payload(0, 10))
	if r[0].Seq != 0 || !r[0].Shard.Loaded() {
		t.Fatalf("first record at position %d (loaded %v), want 0", r[0].Seq, r[0].Shard.Loaded())
	}

	// A split's children are loaded when made; each gets its segment too.
	parent := st.Shards()[1]
	if err := st.SplitShard(parent.ID(), parent.HashRange().Start.Add1().Add1()); err != nil {
		t.Fatal(err)
	}
	s.prep.wait()
	all := st.Shards()
	children := all[len(all)-2:]
	for _, c := range children {
		if files := segmentFiles(t, c); len(files) != 1 || len(c.Segments()) != 1 {
			t.Fatalf("child %s after preparation: files %v, segments %v", c.ID(), files, c.Segments())
		}
	}

	// A stream that never got a record: after a clean restart its first
	// record still takes position 0 (the resume point of the preparation).
	idle := mustCreate(t, s, "idle", 2)
	s.prep.wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, o)
	defer s.Close()
	idle, err := s.Stream(idle.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range idle.Shards() {
		if got := putOne(idle, sh); got != nil {
			t.Fatal(got)
		}
		if recs := records(t, sh); len(recs) != 1 || recs[0].Seq != 0 {
			t.Fatalf("%s after a restart: %d records, first at %v", sh.ID(), len(recs), recs)
		}
	}
	st, err = s.Stream("fresh")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sh := range st.Shards() {
		total += len(records(t, sh))
	}
	if total != 1 {
		t.Fatalf("%d records in stream fresh after a restart, want 1", total)
	}
}

// TestPreparationYieldsToWritesAndDeletes checks that a stream deleted
// while its shards are queued leaves nothing behind, that a shard written
// before its turn keeps its records, and that a failed preparation leaves
// the first segment to the first append.
func TestPreparationYieldsToWritesAndDeletes(t *testing.T) {
	dir := t.TempDir()
	f := &faults{op: "create"}
	o := testOptions(t, dir, nil)
	o.Segment.Faults = f
	s := mustOpen(t, o)
	defer s.Close()

	for range 5 {
		st := mustCreate(t, s, "gone", 20)
		if err := s.DeleteStream(st.Name()); err != nil {
			t.Fatal(err)
		}
	}
	st := mustCreate(t, s, "busy", 8)
	for i := range 50 { // races the preparer over the eight shards
		put(t, st, "k"+string(rune('a'+i%26)), payload(i, 64))
	}
	s.prep.wait()
	if entries, err := os.ReadDir(filepath.Join(dir, streamsDir)); err != nil || len(entries) != 1 {
		t.Fatalf("streams left after deletes: %v %v", entries, err)
	}
	total := 0
	for _, sh := range st.Shards() {
		if files := segmentFiles(t, sh); len(files) != 1 {
			t.Fatalf("%s: %v, want one segment", sh.ID(), files)
		}
		total += len(records(t, sh))
	}
	if total != 50 {
		t.Fatalf("%d records read back, want 50", total)
	}

	boom := errors.New("disk full")
	f.err.Store(&boom)
	failed := mustCreate(t, s, "failed", 2)
	s.prep.wait()
	f.err.Store(nil)
	for _, sh := range failed.Shards() {
		if files := segmentFiles(t, sh); len(files) != 0 {
			t.Fatalf("%s after a failed preparation: %v", sh.ID(), files)
		}
		if err := putOne(failed, sh); err != nil {
			t.Fatalf("first append after a failed preparation: %v", err)
		}
		if recs := records(t, sh); len(recs) != 1 || recs[0].Seq != 0 {
			t.Fatalf("%s: %v", sh.ID(), recs)
		}
	}
}

// hookOnce runs hook the first time the fault-injection step op is
// reached.
type hookOnce struct {
	op   string
	hook atomic.Pointer[func()]
}

func (h *hookOnce) Fault(op string) error {
	if op == h.op {
		if f := h.hook.Swap(nil); f != nil {
			(*f)()
		}
	}
	return nil
}

// TestPreparationSkipsShardsLoadedMeanwhile loads one shard and writes
// another between the drafts and their publication: each keeps what its
// own load and append made (the load's listing removed the draft), and
// the others are prepared. The loaded shard is given a file under the
// draft's temporary name, as an append building its first segment there
// would hold: the preparer must leave it, not publish it.
func TestPreparationSkipsShardsLoadedMeanwhile(t *testing.T) {
	h := &hookOnce{op: "create-fsync"}
	o := testOptions(t, t.TempDir(), nil)
	o.Segment.Faults = h
	s := mustOpen(t, o)
	defer s.Close()
	st := mustCreate(t, s, "race", 4)
	sh := st.Shards()
	read, written := sh[1], sh[2]
	var readErr, appendErr error
	building := filepath.Join(read.dir, segment.Name(0)+".tmp")
	hook := func() {
		_, readErr = read.TrimHorizon() // loads it
		if readErr == nil {
			readErr = os.WriteFile(building, []byte("an append's segment being built"), 0o644)
		}
		_, appendErr = written.Append([]Record{{PartitionKey: []byte("k"), Data: []byte("mine")}})
	}
	h.hook.Store(&hook)
	s.prep.wait()
	if h.hook.Load() != nil {
		t.Fatal("the drafts were never synced")
	}
	if readErr != nil || appendErr != nil {
		t.Fatal(readErr, appendErr)
	}
	files := func(sh *Shard) []string {
		all, _ := filepath.Glob(filepath.Join(sh.dir, "*"))
		for i, f := range all {
			all[i] = filepath.Base(f)
		}
		return all
	}
	if got := files(read); len(got) != 1 || got[0] != filepath.Base(building) || !read.Loaded() {
		t.Fatalf("shard loaded meanwhile: files %v (want only the file being built), loaded %v", got, read.Loaded())
	}
	if err := os.Remove(building); err != nil {
		t.Fatal(err)
	}
	if recs := records(t, written); len(recs) != 1 || recs[0].Seq != 0 || string(recs[0].Data) != "mine" {
		t.Fatalf("shard written meanwhile: %v", recs)
	}
	if got := segmentFiles(t, written); len(got) != 1 {
		t.Fatalf("shard written meanwhile: %v", got)
	}
	for _, sh := range []*Shard{sh[0], sh[3]} {
		if got := segmentFiles(t, sh); len(got) != 1 || sh.Loaded() {
			t.Fatalf("%s: %v (loaded %v), want its prepared segment", sh.ID(), got, sh.Loaded())
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(st.dir, "*", "*.tmp")); len(tmps) != 0 {
		t.Fatalf("drafts left: %v", tmps)
	}
}

// TestPreparerTakesTheNewestStreamFirst: with shards of an older stream
// still queued, the next batch is the newest stream's, so a backlog does
// not hold back the stream likeliest to be written next; the older one's
// shards are all prepared after it.
func TestPreparerTakesTheNewestStreamFirst(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	o.LazyFirstSegments = true // this test drives its own preparer
	s := mustOpen(t, o)
	older := mustCreate(t, s, "older", 2*prepBatch+3)
	newer := mustCreate(t, s, "newer", 3)
	p := newPreparer(s)
	defer p.fs.close()
	p.add(older, older.Shards())
	p.add(newer, newer.Shards())
	prepared := func(st *Stream) (n int) {
		for _, sh := range st.Shards() {
			if len(segmentFiles(t, sh)) == 1 {
				n++
			}
		}
		return n
	}
	if !p.next() {
		t.Fatal("next prepared nothing with shards queued")
	}
	if got, old := prepared(newer), prepared(older); got != 3 || old != 0 {
		t.Fatalf("after the first batch: %d of 3 newer shards prepared (want 3), %d older (want 0)", got, old)
	}
	for p.next() {
	}
	if got := prepared(older); got != len(older.Shards()) {
		t.Fatalf("after the queue drained: %d of %d older shards prepared", got, len(older.Shards()))
	}
}
