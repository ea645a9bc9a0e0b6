package shard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/segment"
)

// clock is a settable test clock. It starts at the real current time, so
// that whatever a test compares it with (arrival times written by an
// earlier run of the store, file times) is never ahead of it on the
// calendar, whatever day the test runs.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// testOptions are small enough to force segment rolls quickly.
func testOptions(t *testing.T, dir string, c *clock) Options {
	t.Helper()
	o := DefaultOptions(dir)
	o.Segment.MaxSegmentBytes = 64 << 10
	o.Segment.IndexIntervalBytes = 512
	o.Segment.Logger = zerolog.New(zerolog.NewTestWriter(t))
	o.Logger = zerolog.New(zerolog.NewTestWriter(t))
	o.ExpireInterval = time.Hour // tests call Expire themselves
	// Tests unload shards themselves (unloadNow); and a store a test
	// leaves open, as a crash would, must not unload and log once the
	// test is over.
	o.IdleShardTimeout = time.Hour
	o.Fsync = FsyncNever
	if c != nil {
		o.Now = c.Now
	}
	return o
}

func mustOpen(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t *testing.T, s *Store, name string, shards int) *Stream {
	t.Helper()
	st, err := s.CreateStream(StreamConfig{Name: name, ShardCount: shards})
	if err != nil {
		t.Fatalf("CreateStream(%s): %v", name, err)
	}
	return st
}

// put appends one record per data item with partition key pk and returns
// the results.
func put(t *testing.T, st *Stream, pk string, data ...[]byte) []PutResult {
	t.Helper()
	recs := make([]Record, len(data))
	keys := make([]HashKey, len(data))
	for i, d := range data {
		recs[i] = Record{PartitionKey: []byte(pk), Data: d}
		keys[i] = HashPartitionKey([]byte(pk))
	}
	out := make([]PutResult, len(data))
	st.Put(recs, keys, out)
	for i, r := range out {
		if r.Err != nil {
			t.Fatalf("put %d: %v", i, r.Err)
		}
	}
	return out
}

// readAll reads every record of sh from pos, copying the data out.
func readAll(t *testing.T, sh *Shard, pos uint64) ([][]byte, []uint64) {
	t.Helper()
	data, seqs, damaged := readAround(t, sh, pos)
	if len(damaged) > 0 {
		t.Fatalf("Read: %v", damaged[0])
	}
	return data, seqs
}

func payload(i, size int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, size)
	copy(b, fmt.Sprintf("record-%d", i))
	return b
}

func TestPutReadRollAndReopen(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "orders", 1)
	const n = 3000 // ~3 MB at 1 KiB: many rolls of 64 KiB segments
	var want [][]byte
	var wantSeqs []uint64
	for i := 0; i < n; i += 10 {
		batch := make([][]byte, 10)
		for j := range batch {
			batch[j] = payload(i+j, 1000)
		}
		want = append(want, batch...)
		for _, r := range put(t, st, "pk", batch...) {
			wantSeqs = append(wantSeqs, r.Seq)
		}
	}
	sh := st.Shards()[0]
	got, seqs := readAll(t, sh, 0)
	if len(got) != n {
		t.Fatalf("read %d records, want %d", len(got), n)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) || seqs[i] != wantSeqs[i] || i > 0 && seqs[i] <= seqs[i-1] {
			t.Fatalf("record %d: seq %d (acknowledged %d), data mismatch=%v", i, seqs[i], wantSeqs[i], !bytes.Equal(got[i], want[i]))
		}
	}
	last := wantSeqs[n-1]
	if segs := len(*sh.segs.Load()); segs < 10 {
		t.Fatalf("only %d segments: rolls did not happen", segs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := mustOpen(t, o)
	st2, err := s2.Stream("orders")
	if err != nil {
		t.Fatal(err)
	}
	sh2 := st2.Shards()[0]
	if sh2.Tail() != last+1 {
		t.Fatalf("tail after reopen = %d, want %d", sh2.Tail(), last+1)
	}
	got, _ = readAll(t, sh2, 0)
	if len(got) != n || !bytes.Equal(got[n-1], want[n-1]) {
		t.Fatalf("after reopen read %d records", len(got))
	}
	res := put(t, st2, "pk", []byte("after"))
	if res[0].Seq != last+1 {
		t.Fatalf("first seq after reopen = %d, want %d", res[0].Seq, last+1)
	}
}

func TestCrashWithoutCloseKeepsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	st := mustCreate(t, s, "crash", 2)
	var acked int
	for i := 0; i < 500; i++ {
		put(t, st, fmt.Sprintf("k%d", i), payload(i, 300))
		acked++
	}
	// No Close: the handles are dropped as a crash would drop them. The
	// mappings stay valid in this process, as the page cache would after kill -9.
	// A killed process also stops its background sealers; this one keeps
	// running, and a seal that truncates a file while the second store scans
	// it is not a crash, so wait for them (the crash sweep kills mid-seal).
	for _, sh := range st.Shards() {
		sh.waitSealed()
	}
	s2 := mustOpen(t, o)
	st2, err := s2.Stream("crash")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sh := range st2.Shards() {
		got, _ := readAll(t, sh, 0)
		total += len(got)
	}
	if total != acked {
		t.Fatalf("recovered %d records, acknowledged %d", total, acked)
	}
}

func TestRoutingByHashKey(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "routes", 4)
	for i := 0; i < 200; i++ {
		pk := fmt.Sprintf("user-%d", i)
		res := put(t, st, pk, []byte(pk))
		k := HashPartitionKey([]byte(pk))
		if !res[0].Shard.HashRange().Contains(k) {
			t.Fatalf("%s routed to %s whose range does not hold its hash", pk, res[0].Shard.ID())
		}
	}
	// Explicit hash keys at the range boundaries.
	for _, sh := range st.OpenShards() {
		for _, k := range []HashKey{sh.HashRange().Start, sh.HashRange().End} {
			if got := st.Route(k); got != sh {
				t.Fatalf("Route(%s) = %s, want %s", k, got.ID(), sh.ID())
			}
		}
	}
}

func TestSplitMergeLineageAndSequenceOrder(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "reshard", 2)
	before := put(t, st, "a", []byte("1"), []byte("2"))[1]
	parent := before.Shard
	mid := parent.HashRange().Start.Add1().Add1()
	if err := st.SplitShard(parent.ID(), mid); err != nil {
		t.Fatal(err)
	}
	if !parent.Closed() {
		t.Fatal("parent still open after split")
	}
	if _, err := parent.Append([]Record{{PartitionKey: []byte("a")}}); !errors.Is(err, ErrShardClosed) {
		t.Fatalf("append to closed parent: %v", err)
	}
	open := st.OpenShards()
	if len(open) != 3 {
		t.Fatalf("%d open shards after split, want 3", len(open))
	}
	var kids []*Shard
	for _, sh := range st.Shards() {
		if sh.Parent() == parent.ID() {
			kids = append(kids, sh)
		}
	}
	if len(kids) != 2 || kids[0].HashRange().End.Add1() != kids[1].HashRange().Start ||
		kids[0].HashRange().Start != parent.HashRange().Start || kids[1].HashRange().End != parent.HashRange().End {
		t.Fatalf("children do not partition the parent's range: %+v", kids)
	}
	after := put(t, st, "a", []byte("3"))[0]
	if after.Shard.Parent() != parent.ID() {
		t.Fatalf("record went to %s, not a child", after.Shard.ID())
	}
	if a, b := parent.SequenceNumber(before.Seq), after.Shard.SequenceNumber(after.Seq); !(a < b) {
		t.Fatalf("child sequence number %s not above parent's %s", b, a)
	}
	if parent.EndingSequenceNumber() != parent.SequenceNumber(before.Seq) {
		t.Fatalf("ending sequence number %s, want %s", parent.EndingSequenceNumber(), parent.SequenceNumber(before.Seq))
	}
	var res ReadResult
	if err := parent.Read(before.Seq+1, 10, 1<<20, &res); err != nil || !res.AtEnd {
		t.Fatalf("read past end of closed parent: AtEnd=%v err=%v", res.AtEnd, err)
	}
	res.Release()

	if err := st.MergeShards(kids[0].ID(), kids[1].ID()); err != nil {
		t.Fatal(err)
	}
	var merged *Shard
	for _, sh := range st.OpenShards() {
		if sh.Parent() == kids[0].ID() {
			merged = sh
		}
	}
	if merged == nil || merged.AdjacentParent() != kids[1].ID() || merged.HashRange() != parent.HashRange() {
		t.Fatalf("merge lineage wrong: %+v", merged)
	}
	if err := st.MergeShards(open[0].ID(), merged.ID()); err == nil && open[0].HashRange().End.Add1() != merged.HashRange().Start {
		t.Fatal("merged non-adjacent shards")
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, o)
	st2, _ := s2.Stream("reshard")
	if got, want := len(st2.Shards()), len(st.Shards()); got != want {
		t.Fatalf("%d shards after reopen, want %d", got, want)
	}
	p2, err := st2.Shard(parent.ID())
	if err != nil || !p2.Closed() || p2.EndingSequenceNumber() != parent.EndingSequenceNumber() {
		t.Fatalf("closed parent after reopen: %v closed=%v", err, p2 != nil && p2.Closed())
	}
}

func TestUpdateShardCount(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "scale", 4)
	if err := st.UpdateShardCount(9); !errors.Is(err, ErrBadShardCount) {
		t.Fatalf("scale 4->9: %v", err)
	}
	if err := st.UpdateShardCount(1); !errors.Is(err, ErrBadShardCount) {
		t.Fatalf("scale 4->1: %v", err)
	}
	if err := st.UpdateShardCount(8); err != nil {
		t.Fatal(err)
	}
	open := st.OpenShards()
	if len(open) != 8 {
		t.Fatalf("%d open shards, want 8", len(open))
	}
	for i, sh := range open {
		if sh.HashRange() != SplitEvenly(8)[i] || sh.Parent() == "" {
			t.Fatalf("shard %d: range %v parent %q", i, sh.HashRange(), sh.Parent())
		}
	}
	if err := st.UpdateShardCount(4); err != nil {
		t.Fatal(err)
	}
	if n := len(st.OpenShards()); n != 4 {
		t.Fatalf("%d open shards after scaling down, want 4", n)
	}
}

func TestRetentionExpires(t *testing.T) {
	c := newClock()
	o := testOptions(t, t.TempDir(), c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "expiring", 1)
	sh := st.Shards()[0]
	for i := 0; i < 300; i++ {
		put(t, st, "k", payload(i, 1000)) // several sealed segments
	}
	old := len(*sh.segs.Load())
	c.Advance(23 * time.Hour)
	young := put(t, st, "k", []byte("young"))[0].Seq
	s.Expire()
	if got, _ := readAll(t, sh, 0); len(got) != 301 {
		t.Fatalf("before expiry read %d records, want 301", len(got))
	}
	c.Advance(2 * time.Hour) // the first 300 are now 25 h old
	// Reads hide expired records even before the retention pass runs.
	got, seqs := readAll(t, sh, 0)
	if len(got) != 1 || string(got[0]) != "young" || seqs[0] != young {
		t.Fatalf("after expiry read %d records (%v)", len(got), seqs)
	}
	if h, _ := sh.TrimHorizon(); h != young {
		t.Fatalf("trim horizon %d, want %d", h, young)
	}
	s.Expire()
	segs := *sh.segs.Load()
	if len(segs) >= old || segs[0].Base() > young {
		t.Fatalf("expiry left %d of %d segments, first base %d", len(segs), old, segs[0].Base())
	}
	files, _ := filepath.Glob(filepath.Join(sh.dir, "*.log"))
	if len(files) != len(segs) {
		t.Fatalf("%d .log files on disk for %d segments", len(files), len(segs))
	}
	// Idle data expires too: the active segment rolls by age, then goes.
	c.Advance(48 * time.Hour)
	s.Expire()
	s.Expire()
	if got, _ := readAll(t, sh, 0); len(got) != 0 {
		t.Fatalf("read %d records after everything expired", len(got))
	}
	if res := put(t, st, "k", []byte("new")); res[0].Seq <= young {
		t.Fatalf("seq after full expiry = %d, want above %d", res[0].Seq, young)
	}
}

func TestClosedShardExpiresAway(t *testing.T) {
	c := newClock()
	s := mustOpen(t, testOptions(t, t.TempDir(), c))
	st := mustCreate(t, s, "drop", 1)
	put(t, st, "k", []byte("x"))
	parent := st.Shards()[0]
	if err := st.SplitShard(parent.ID(), HashKey{Hi: 1 << 63}); err != nil {
		t.Fatal(err)
	}
	c.Advance(25 * time.Hour)
	s.Expire()
	if _, err := st.Shard(parent.ID()); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("expired closed shard still listed: %v", err)
	}
	if _, err := os.Stat(parent.dir); !os.IsNotExist(err) {
		t.Fatalf("expired closed shard directory still there: %v", err)
	}
	if n := len(st.Shards()); n != 2 {
		t.Fatalf("%d shards left, want the 2 children", n)
	}
}

func TestSeekTime(t *testing.T) {
	c := newClock()
	s := mustOpen(t, testOptions(t, t.TempDir(), c))
	st := mustCreate(t, s, "time", 1)
	sh := st.Shards()[0]
	start := c.Now()
	var seqs []uint64
	for i := 0; i < 100; i++ { // 64 KiB segments: a roll
		seqs = append(seqs, put(t, st, "k", payload(i, 900))[0].Seq)
		c.Advance(time.Second)
	}
	for _, i := range []int{0, 1, 50, 99} {
		seq, err := sh.SeekTime(start.Add(time.Duration(i) * time.Second))
		if err != nil || seq != seqs[i] {
			t.Fatalf("SeekTime(+%ds) = %d, %v; want %d", i, seq, err, seqs[i])
		}
	}
	if seq, _ := sh.SeekTime(start.Add(time.Hour)); seq != seqs[99]+1 {
		t.Fatalf("SeekTime(future) = %d, want tail %d", seq, seqs[99]+1)
	}
}

func TestDeleteStreamAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "Gone.", 2)
	mustCreate(t, s, "gone.", 1) // differs only in case: must not collide
	put(t, st, "k", []byte("x"))
	if err := s.DeleteStream("Gone."); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stream("Gone."); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("deleted stream still there: %v", err)
	}
	if _, err := os.Stat(st.dir); !os.IsNotExist(err) {
		t.Fatalf("stream directory survived delete: %v", err)
	}
	if _, err := s.Stream("gone."); err != nil {
		t.Fatalf("sibling stream lost: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Leftovers of interrupted operations.
	root := filepath.Join(dir, streamsDir)
	os.MkdirAll(filepath.Join(root, "s_half.tmp"), 0o755)
	os.MkdirAll(filepath.Join(root, "s_old.1.deleting", "shardId-000000000000"), 0o755)
	os.MkdirAll(filepath.Join(root, dirName("gone."), "shardId-000000000009"), 0o755)
	s2 := mustOpen(t, o)
	for _, p := range []string{"s_half.tmp", "s_old.1.deleting", filepath.Join(dirName("gone."), "shardId-000000000009")} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Fatalf("leftover %s not removed", p)
		}
	}
	if n := len(s2.Streams()); n != 1 {
		t.Fatalf("%d streams after reopen, want 1", n)
	}
}

func TestRefusesOtherFormatVersion(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, testOptions(t, dir, nil))
	s.Close()
	path := filepath.Join(dir, storeMetaFile)
	var m storeMeta
	if err := readJSON(path, &m); err != nil {
		t.Fatal(err)
	}
	m.Version = 99
	if err := writeJSONAtomic(path, &m, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testOptions(t, dir, nil)); !errors.Is(err, ErrFormat) {
		t.Fatalf("Open of version 99: %v", err)
	}
}

// faults injects an error into one segment operation.
type faults struct {
	op  string
	err atomic.Pointer[error]
}

func (f *faults) Fault(op string) error {
	if p := f.err.Load(); p != nil && op == f.op {
		return *p
	}
	return nil
}

func TestInjectedFaultsAreSticky(t *testing.T) {
	for _, op := range []string{"append", "sync"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{op: op}
			o := testOptions(t, dir, nil)
			o.Segment.Faults = f
			o.Fsync = FsyncAlways
			s := mustOpen(t, o)
			st := mustCreate(t, s, "faulty", 1)
			sh := st.Shards()[0]
			put(t, st, "k", []byte("ok"))
			injected := errors.New("injected I/O error")
			f.err.Store(&injected)
			if _, err := sh.Append([]Record{{PartitionKey: []byte("k"), Data: []byte("lost")}}); err == nil {
				t.Fatal("append succeeded through an injected fault")
			}
			tail := sh.Tail()
			f.err.Store(nil)
			if _, err := sh.Append([]Record{{PartitionKey: []byte("k"), Data: []byte("refused")}}); !errors.Is(err, ErrSticky) {
				t.Fatalf("append after a failure: %v, want ErrSticky", err)
			}
			if sh.Tail() != tail {
				t.Fatalf("tail moved from %d to %d on a refused append", tail, sh.Tail())
			}
			s.Close()
			s2 := mustOpen(t, testOptions(t, dir, nil))
			st2, _ := s2.Stream("faulty")
			got, _ := readAll(t, st2.Shards()[0], 0)
			if len(got) == 0 || string(got[0]) != "ok" {
				t.Fatalf("after reopen: %q", got)
			}
			// The failed append may have handed out positions (the failed sync
			// had published its record): they are never given out again.
			res := put(t, st2, "k", []byte("again"))
			if res[0].Seq < 2 {
				t.Fatalf("seq after reopen = %d, want above the failed append's 1", res[0].Seq)
			}
		})
	}
}

func TestConcurrentAppendReadWaitExpire(t *testing.T) {
	c := newClock()
	o := testOptions(t, t.TempDir(), c)
	o.Fsync = FsyncAlways
	s := mustOpen(t, o)
	st := mustCreate(t, s, "busy", 2)
	const writers, perWriter = 4, 300
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ackMu sync.Mutex
	acked := map[*Shard][]uint64{}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				pk := fmt.Sprintf("w%d-%d", w, i)
				recs := []Record{{PartitionKey: []byte(pk), Data: payload(i, 200)}}
				out := make([]PutResult, 1)
				st.Put(recs, []HashKey{HashPartitionKey([]byte(pk))}, out)
				if out[0].Err != nil {
					t.Error(out[0].Err)
					return
				}
				ackMu.Lock()
				acked[out[0].Shard] = append(acked[out[0].Shard], out[0].Seq)
				ackMu.Unlock()
			}
		}(w)
	}
	var readers sync.WaitGroup
	for _, sh := range st.Shards() {
		readers.Add(2)
		go func(sh *Shard) { // a tailing reader woken by notifications
			defer readers.Done()
			var pos uint64
			var res ReadResult
			for {
				ch := sh.TailChanged()
				if err := sh.Read(pos, 100, 1<<20, &res); err != nil {
					t.Error(err)
					return
				}
				for i, r := range res.Records {
					if r.Seq < pos || i > 0 && r.Seq <= res.Records[i-1].Seq {
						t.Errorf("out of order: got seq %d reading from %d", r.Seq, pos)
					}
				}
				pos = res.Next
				n := len(res.Records)
				res.Release()
				if n > 0 {
					continue
				}
				select {
				case <-ch:
				case <-stop:
					return
				}
			}
		}(sh)
		go func(sh *Shard) { // a scanning reader
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				readAll(t, sh, 0)
			}
		}(sh)
	}
	readers.Add(1)
	go func() { // the retention pass, with time racing ahead slowly
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				c.Advance(time.Minute)
				s.Expire()
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	total := 0
	for sh, seqs := range acked {
		slices.Sort(seqs)
		if len(slices.Compact(seqs)) != len(seqs) || seqs[len(seqs)-1] >= sh.Tail() {
			t.Fatalf("%s: positions acknowledged twice, or at or past the tail %d", sh.ID(), sh.Tail())
		}
		total += len(seqs)
	}
	if total != writers*perWriter {
		t.Fatalf("%d records acknowledged, want %d", total, writers*perWriter)
	}
}

var _ segment.FaultInjector = (*faults)(nil)

func TestStoreCompressesSealedSegments(t *testing.T) {
	for _, codec := range []segment.Compression{segment.Zstd, segment.S2} {
		t.Run(codec.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t, dir, nil)
			o.Segment.Compression = codec
			s := mustOpen(t, o)
			st := mustCreate(t, s, "json", 1)
			sh := st.Shards()[0]
			var want [][]byte
			for i := 0; i < 2000; i++ { // several 64 KiB segments
				rec := []byte(fmt.Sprintf(`{"name":"user%d","age":%d,"gender":"F","score":%d.5,"job":"engineer"}`, i, 20+i%50, i%100))
				want = append(want, rec)
				put(t, st, "k", rec)
			}
			s.Compress()
			compressed := 0
			for _, seg := range *sh.segs.Load() {
				if seg.Compressed() {
					compressed++
				}
			}
			if compressed == 0 {
				t.Fatal("no segment was compressed")
			}
			check := func(sh *Shard) {
				t.Helper()
				got, _ := readAll(t, sh, 0)
				if len(got) != len(want) {
					t.Fatalf("read %d records, want %d", len(got), len(want))
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
					}
				}
			}
			check(sh)
			s.Close()
			s2 := mustOpen(t, o)
			st2, _ := s2.Stream("json")
			check(st2.Shards()[0])
		})
	}
}

func TestAutoDistributionSpreadsRecords(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, testOptions(t, dir, nil))
	st := mustCreate(t, s, "auto", 3)
	if err := st.SetRecordDistribution(DistributionAuto); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < 30; i++ {
		counts[put(t, st, "same-key", []byte("x"))[0].Shard.ID()]++
	}
	if len(counts) != 3 || counts["shardId-000000000000"] != 10 {
		t.Fatalf("AUTO spread one partition key as %v", counts)
	}
	s.Close()
	s2 := mustOpen(t, testOptions(t, dir, nil))
	st2, _ := s2.Stream("auto")
	if got := st2.Info().Distribution; got != DistributionAuto {
		t.Fatalf("distribution after reopen = %s", got)
	}
}

func TestCreateStreamWithAutoDistribution(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, testOptions(t, dir, nil))
	st, err := s.CreateStream(StreamConfig{Name: "auto", ShardCount: 2, Distribution: DistributionAuto})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < 10; i++ {
		counts[put(t, st, "same-key", []byte("x"))[0].Shard.ID()]++
	}
	if len(counts) != 2 {
		t.Fatalf("AUTO from creation spread one partition key as %v", counts)
	}
	s.Close()
	s2 := mustOpen(t, testOptions(t, dir, nil))
	st2, err := s2.Stream("auto")
	if err != nil {
		t.Fatal(err)
	}
	if got := st2.Info().Distribution; got != DistributionAuto {
		t.Fatalf("distribution after reopen = %s", got)
	}
}

func TestPutDuringReshardNeitherLosesNorDuplicates(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "moving", 2)
	const writers, perWriter = 4, 400
	wg := startWriters(t, st, writers, perWriter)
	for i := 0; i < 6; i++ { // reshard repeatedly under the writers
		widest := st.OpenShards()[0]
		for _, sh := range st.OpenShards() {
			r, w := sh.HashRange(), widest.HashRange()
			if r.End.Hi-r.Start.Hi > w.End.Hi-w.Start.Hi {
				widest = sh
			}
		}
		r := widest.HashRange()
		if err := st.SplitShard(widest.ID(), HashKey{Hi: r.Start.Hi + (r.End.Hi-r.Start.Hi)/2}); err != nil {
			t.Error(err)
			break
		}
	}
	wg.Wait()
	checkStoredOnce(t, st, writers*perWriter)
}

func TestShardsStayDormantUntilTouched(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	o := testOptions(t, dir, c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "lazy", 4)
	for i := 0; i < 400; i++ {
		put(t, st, fmt.Sprintf("k%d", i), payload(i, 1000)) // sealed segments in every shard
	}
	tails := map[string]uint64{}
	counts := map[string]int{}
	for _, sh := range st.Shards() {
		tails[sh.ID()] = sh.Tail()
		got, _ := readAll(t, sh, 0)
		counts[sh.ID()] = len(got)
	}
	s.Close()

	s2 := mustOpen(t, o)
	st2, _ := s2.Stream("lazy")
	shards := st2.Shards()
	_ = st2.Info()
	_ = st2.OpenShards()
	for _, sh := range shards {
		if sh.Loaded() {
			t.Fatalf("%s loaded by opening the store or describing the stream", sh.ID())
		}
		_ = sh.StartingSequenceNumber()
	}
	res := put(t, st2, "k1", []byte("wake"))
	touched := res[0].Shard
	if !touched.Loaded() || touched.Tail() != tails[touched.ID()]+1 {
		t.Fatalf("written shard: loaded=%v tail=%d, want tail %d", touched.Loaded(), touched.Tail(), tails[touched.ID()]+1)
	}
	for _, sh := range shards {
		if sh != touched && sh.Loaded() {
			t.Fatalf("%s loaded by a write to %s", sh.ID(), touched.ID())
		}
	}
	s2.Expire() // nothing expired: the retention pass leaves dormant shards alone
	for _, sh := range shards {
		if sh != touched && sh.Loaded() {
			t.Fatalf("%s loaded by a retention pass with nothing to expire", sh.ID())
		}
	}
	other := shards[0]
	if other == touched {
		other = shards[1]
	}
	if got, _ := readAll(t, other, 0); len(got) != counts[other.ID()] {
		t.Fatalf("read %d records from a dormant shard, want %d", len(got), counts[other.ID()])
	}
	// Expired sealed segments make the retention pass load the shard and free them.
	c.Advance(48 * time.Hour)
	s2.Expire()
	for _, sh := range shards {
		if !sh.Loaded() {
			t.Fatalf("%s with expired segments was not loaded by the retention pass", sh.ID())
		}
		if got, _ := readAll(t, sh, 0); len(got) != 0 {
			t.Fatalf("%s still returns %d expired records", sh.ID(), len(got))
		}
	}
}

func TestReadAcrossSegmentsWithByteLimit(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "paged", 1)
	sh := st.Shards()[0]
	const n = 600 // ~900 KB of 1-2 KiB records: many 64 KiB segments
	for i := 0; i < n; i++ {
		put(t, st, "k", payload(i, 1000+(i*37)%1000))
	}
	for _, limit := range []int{1, 5000, 100 << 10, 1 << 20} {
		var res ReadResult
		pos, seen := uint64(0), 0
		for pos < sh.Tail() {
			if err := sh.Read(pos, 10000, limit, &res); err != nil {
				t.Fatal(err)
			}
			bytes := 0
			for i, r := range res.Records {
				if r.Seq < pos || i > 0 && r.Seq <= res.Records[i-1].Seq {
					t.Fatalf("limit %d: read at %d returned seq %d at index %d", limit, pos, r.Seq, i)
				}
				bytes += len(r.Data)
			}
			if len(res.Records) == 0 || (len(res.Records) > 1 && bytes > limit) {
				t.Fatalf("limit %d: read at %d returned %d records of %d bytes", limit, pos, len(res.Records), bytes)
			}
			seen += len(res.Records)
			pos = res.Next
			res.Release()
		}
		if seen != n {
			t.Fatalf("limit %d: read %d records, want %d", limit, seen, n)
		}
	}
}

func TestCutTailPositionsAreNeverReused(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "torn", 1)
	for i := 0; i < 20; i++ {
		put(t, st, "k", payload(i, 100))
	}
	sh := st.Shards()[0]
	active := (*sh.segs.Load())[len(*sh.segs.Load())-1]
	path, end := active.Path(), active.Size()
	s.Close()
	// Garbage where the next frames would have been: a write torn by power
	// loss, which may have held acknowledged records (fsync=never).
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 1000), end); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s2 := mustOpen(t, o)
	st2, _ := s2.Stream("torn")
	res := put(t, st2, "k", []byte("after"))
	if min := uint64(20 + 1000/segment.MinFrameBytes); res[0].Seq <= min {
		t.Fatalf("first position after the cut = %d, want above %d", res[0].Seq, min)
	}
	got, seqs := readAll(t, st2.Shards()[0], 0)
	if len(got) != 21 || string(got[20]) != "after" || seqs[19] != 19 {
		t.Fatalf("read %d records (%v) after the cut", len(got), seqs)
	}
	after := res[0].Seq
	s2.Close()
	s3 := mustOpen(t, o) // the jump is on disk: positions keep rising after another restart
	st3, _ := s3.Stream("torn")
	if res := put(t, st3, "k", []byte("later")); res[0].Seq != after+1 {
		t.Fatalf("position after a second restart = %d, want %d", res[0].Seq, after+1)
	}
}

// TestQuietShardExpiresAfterRestart writes a few records into a shard once
// (they stay in its active segment), restarts the store and leaves the
// shard alone: once retention has passed, the retention pass must expire them
// although the shard was never touched again.
func TestQuietShardExpiresAfterRestart(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	o := testOptions(t, dir, c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "quiet", 1)
	put(t, st, "k", []byte("one"), []byte("two"))
	s.Close()

	s2 := mustOpen(t, o)
	st2, _ := s2.Stream("quiet")
	sh := st2.Shards()[0]
	s2.Expire()
	if sh.Loaded() {
		t.Fatal("a shard with nothing expired was loaded by the retention pass")
	}
	c.Advance(25 * time.Hour)
	s2.Expire()
	if got, _ := readAll(t, sh, 0); len(got) != 0 {
		t.Fatalf("%d records past retention still readable", len(got))
	}
	logs, _ := filepath.Glob(filepath.Join(sh.dir, "*.log"))
	if len(logs) != 1 {
		t.Fatalf("segment files after expiry: %v, want only the new active one", logs)
	}
}

// TestRaisingRetentionDoesNotRestoreExpired lets records expire (past the
// horizon, not yet deleted by the retention pass), raises the retention period
// and checks they stay expired, also after a restart; records that arrive
// afterwards are kept for the new period.
func TestRaisingRetentionDoesNotRestoreExpired(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	o := testOptions(t, dir, c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "trim", 1)
	put(t, st, "k", []byte("old"))
	c.Advance(25 * time.Hour)
	if err := st.SetRetentionHours(72); err != nil {
		t.Fatal(err)
	}
	put(t, st, "k", []byte("new"))
	check := func(st *Stream, when string) {
		t.Helper()
		got, _ := readAll(t, st.Shards()[0], 0)
		if len(got) != 1 || string(got[0]) != "new" {
			t.Fatalf("%s: read %q, want only the record put after the raise", when, got)
		}
	}
	check(st, "after the raise")
	s.Close()
	s2 := mustOpen(t, o)
	st2, _ := s2.Stream("trim")
	check(st2, "after a restart")
	c.Advance(48 * time.Hour) // "new" is 48 h old, within the 72 h period
	check(st2, "48 h later")
}

// TestReshardLoopUnderPutsAndReads splits, merges and rescales a stream in a
// loop while four writers put and a reader reads every shard (run it with
// -race): no put may panic or fail, and every record must be stored
// exactly once. UpdateShardCount once sorted the published routing table
// in place while puts searched it by hash key.
func TestReshardLoopUnderPutsAndReads(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "churn", 2)
	const writers, perWriter = 4, 1500
	wg := startWriters(t, st, writers, perWriter)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		var res ReadResult
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, sh := range st.Shards() {
				if err := sh.Read(0, 100, 1<<20, &res); err != nil {
					t.Error(err)
					return
				}
				res.Release()
			}
		}
	}()
	reshards := 0
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			open := st.OpenShards()
			var err error
			switch {
			case i%3 == 0 && len(open) < 8:
				r := open[0].HashRange()
				err = st.SplitShard(open[0].ID(), HashKey{Hi: r.Start.Hi + (r.End.Hi-r.Start.Hi)/2 + 1})
			case i%3 == 1 && len(open) > 1:
				err = st.MergeShards(open[0].ID(), open[1].ID())
			default:
				target := len(open) + 1
				if len(open) >= 6 {
					target = (len(open) + 1) / 2
				}
				err = st.UpdateShardCount(target)
			}
			if err != nil {
				t.Fatalf("reshard %d: %v", i, err)
			}
			reshards++
			continue
		}
		break
	}
	readers.Wait()
	checkStoredOnce(t, st, writers*perWriter)
	t.Logf("%d reshards under %d puts", reshards, writers*perWriter)
}

// startWriters starts writers goroutines that put perWriter records each,
// "w<writer>-<i>", in batches of 10, failing the test on any error.
func startWriters(t *testing.T, st *Stream, writers, perWriter int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]Record, 10)
			keys := make([]HashKey, 10)
			out := make([]PutResult, 10)
			for i := 0; i < perWriter; i += len(recs) {
				for j := range recs {
					id := fmt.Sprintf("w%d-%d", w, i+j)
					recs[j] = Record{PartitionKey: []byte(id), Data: []byte(id)}
					keys[j] = HashPartitionKey([]byte(id))
				}
				st.Put(recs, keys, out)
				for _, r := range out {
					if r.Err != nil {
						t.Error(r.Err)
						return
					}
				}
			}
		}()
	}
	return &wg
}

// checkStoredOnce reads every shard of st and checks that it holds want
// distinct records, each exactly once.
func checkStoredOnce(t *testing.T, st *Stream, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, sh := range st.Shards() {
		got, _ := readAll(t, sh, 0)
		for _, d := range got {
			seen[string(d)]++
		}
	}
	if len(seen) != want {
		t.Fatalf("%d distinct records stored, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("record %s stored %d times", id, n)
		}
	}
}

// TestSplitUnderFsyncAlwaysNeverExposesUnsyncedRecords closes a parent
// while an append waits for its group commit and that commit fails. The
// record is not acknowledged, so no reader may see it: before the split
// synced its parents first, the close made it readable (a closed shard is
// read to its end) and the parent's subscribers delivered a record whose
// put had failed and would be retried onto a child.
func TestSplitUnderFsyncAlwaysNeverExposesUnsyncedRecords(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	o.Fsync = FsyncAlways
	f := &faults{op: "sync"}
	o.Segment.Faults = f
	s := mustOpen(t, o)
	st := mustCreate(t, s, "split-sync", 1)
	parent := st.Shards()[0]
	put(t, st, "k", []byte("durable"))
	// An append that is visible to the shard but not yet synced: Put's
	// first half, before its group commit.
	if n, err := parent.appendVisible([]Record{{PartitionKey: []byte("k"), Data: []byte("pending")}}); n != 1 || err != nil {
		t.Fatalf("appendVisible: %d, %v", n, err)
	}
	injected := errors.New("injected")
	f.err.Store(&injected)
	splitErr := st.SplitShard(parent.ID(), HashKey{Hi: 1 << 63})
	if err := parent.syncTo(2); err == nil {
		t.Fatal("the pending record's sync succeeded despite the fault")
	}
	var res ReadResult
	defer res.Release()
	if err := parent.Read(0, 10, 1<<20, &res); err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, r := range res.Records {
		if string(r.Data) == "pending" {
			t.Fatalf("a reader sees the record whose sync failed (split error: %v)", splitErr)
		}
	}
	if splitErr == nil || parent.Closed() {
		t.Fatalf("split over a failed sync: err %v, parent closed %v; want an error and the parent open", splitErr, parent.Closed())
	}
}

// TestRollUsesPreparedSegment checks that a shard creates its next
// segment, complete and named, once the active one is 7/8 full, at a base
// the active one cannot reach; that the roll switches to it, moving the
// rest of the append up to that base; that readers step over the skipped
// positions; and that a crash while the next segment waits, which leaves
// it as the shard's empty last segment, loses nothing and reuses no
// position.
func TestRollUsesPreparedSegment(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil) // 64 KiB segments
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	st := mustCreate(t, s, "spare", 1)
	sh := st.Shards()[0]
	i := 0
	var seqs []uint64
	for ; sh.spare.Load() == nil; i++ {
		if i == 100 {
			t.Fatal("no segment prepared after 100 records of 1 KiB")
		}
		seqs = append(seqs, put(t, st, "k", payload(i, 1000))[0].Seq)
		sh.prepMu.Lock() // wait for a preparation in flight
		sh.prepMu.Unlock()
	}
	spare := sh.spare.Load()
	if segs := len(*sh.segs.Load()); segs != 1 {
		t.Fatalf("%d segments before the roll", segs)
	}
	if bases, _ := segment.Bases(sh.dir); len(bases) != 2 || bases[1] != spare.Base() {
		t.Fatalf("segment files %v, want the active one and the prepared one at %d", bases, spare.Base())
	}
	// Crash now: the prepared segment is the last file, empty; the active
	// one is not sealed.
	s2, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := s2.Stream("spare")
	if err != nil {
		t.Fatal(err)
	}
	sh2 := st2.Shards()[0]
	got, gotSeqs := readAll(t, sh2, 0)
	if len(got) != i || !slices.Equal(gotSeqs, seqs) {
		t.Fatalf("after a crash with a prepared segment: read %d records at %v, want %d at %v", len(got), gotSeqs, i, seqs)
	}
	if next := put(t, st2, "k", []byte("after crash"))[0].Seq; next < spare.Reserved() {
		t.Fatalf("first position after the crash %d, below the prepared segment's reservation %d", next, spare.Reserved())
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	// s is dropped unclosed, as the crash dropped it.

	// Without a crash: the roll switches to the prepared segment.
	dir = t.TempDir()
	o = testOptions(t, dir, nil)
	s = mustOpen(t, o)
	st = mustCreate(t, s, "spare", 1)
	sh = st.Shards()[0]
	var want [][]byte
	seqs = nil
	for sh.spare.Load() == nil {
		want = append(want, payload(len(want), 1000))
		seqs = append(seqs, put(t, st, "k", want[len(want)-1])[0].Seq)
		sh.prepMu.Lock()
		sh.prepMu.Unlock()
	}
	spare = sh.spare.Load()
	if end := sh.Tail(); spare.Base() <= end {
		t.Fatalf("prepared segment at %d, not above the active end %d", spare.Base(), end)
	}
	for len(*sh.segs.Load()) == 1 {
		// Two records an append, so that the roll splits one.
		a, b := payload(len(want), 1000), payload(len(want)+1, 1000)
		want = append(want, a, b)
		for _, r := range put(t, st, "k", a, b) {
			seqs = append(seqs, r.Seq)
		}
	}
	if segs := *sh.segs.Load(); segs[1] != spare || sh.spare.Load() == spare {
		t.Fatal("the roll did not switch to the prepared segment")
	}
	first := slices.Index(seqs, spare.Base())
	for j, seq := range seqs {
		if first < 1 || j < first && seq != uint64(j) || j >= first && seq != spare.Base()+uint64(j-first) {
			t.Fatalf("positions %v: want 0, 1, ... in the active segment and %d, %d, ... in the next", seqs, spare.Base(), spare.Base()+1)
		}
	}
	got, gotSeqs = readAll(t, sh, 0)
	if !slices.Equal(gotSeqs, seqs) {
		t.Fatalf("read positions %v, want %v", gotSeqs, seqs)
	}
	for j := range got {
		if !bytes.Equal(got[j], want[j]) {
			t.Fatalf("record %d differs", j)
		}
	}
	// A reader at the first skipped position goes on at the next segment.
	got, _ = readAll(t, sh, seqs[first-1]+1)
	if len(got) != len(want)-first || !bytes.Equal(got[0], want[first]) {
		t.Fatalf("read from the gap: %d records, want %d", len(got), len(want)-first)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(sh.dir, "*.tmp")); len(tmps) != 0 {
		t.Fatalf("temporary files after close: %v", tmps)
	}
}

// TestLoadRemovesOrphanSpares plants what a race in an older build's
// background preparation left: an empty segment file whose base lies
// inside the range of the segment before it. Once sealed in the middle,
// and once as the last file after a crash, it hid every record the
// segment before it held above its base. Loading removes it; every
// record reads back and no position is handed out twice.
func TestLoadRemovesOrphanSpares(t *testing.T) {
	for _, last := range []bool{false, true} {
		t.Run(fmt.Sprintf("last=%v", last), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t, dir, nil) // 64 KiB segments
			s, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			st := mustCreate(t, s, "orphan", 1)
			sh := st.Shards()[0]
			var want [][]byte
			var seqs []uint64
			// With last, the crash comes before the first roll; else past
			// it, so that the orphan is sealed in the middle.
			for len(want) < 40 || !last && len(*sh.segs.Load()) == 1 {
				want = append(want, payload(len(want), 1000))
				seqs = append(seqs, put(t, st, "k", want[len(want)-1])[0].Seq)
			}
			sh.waitSealed()
			sh.mu.Lock()
			sh.dropSpareLocked()
			sh.mu.Unlock()
			if !last {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			} // else s is dropped unclosed, as a crash drops it
			orphan := uint64(20) // inside segment 0's range
			seg, err := segment.Create(sh.dir, orphan, orphan+reserveAhead, o.Segment)
			if err != nil {
				t.Fatal(err)
			}
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}

			s2 := mustOpen(t, o)
			st2, err := s2.Stream("orphan")
			if err != nil {
				t.Fatal(err)
			}
			sh2 := st2.Shards()[0]
			got, gotSeqs := readAll(t, sh2, 0)
			if !slices.Equal(gotSeqs, seqs) {
				t.Fatalf("read positions %v, want %v", gotSeqs, seqs)
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("record %d differs", i)
				}
			}
			// A reader past the orphan's base (a consumer resuming there)
			// reads on in the segment that holds the records.
			if _, gotSeqs := readAll(t, sh2, orphan+1); !slices.Equal(gotSeqs, seqs[orphan+1:]) {
				t.Fatalf("read from %d: positions %v, want %v", orphan+1, gotSeqs, seqs[orphan+1:])
			}
			bases, err := segment.Bases(sh2.dir)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(bases, orphan) {
				t.Fatalf("segment files %v still hold the orphan at %d", bases, orphan)
			}
			if next := put(t, st2, "k", []byte("after"))[0].Seq; next <= seqs[len(seqs)-1] {
				t.Fatalf("first position after the restart %d, not above the last handed out %d", next, seqs[len(seqs)-1])
			}
		})
	}
}

// TestBusyShardRefusesAppends holds a shard's lock, as a long append
// would, and checks Options.MaxQueuedBytes: appends queue behind it up to
// the bound, one that would pass it fails at once with ErrBusy and stores
// nothing, and an append alone on its shard runs whatever its size.
func TestBusyShardRefusesAppends(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	o.MaxQueuedBytes = 3000
	s := mustOpen(t, o)
	st := mustCreate(t, s, "busy", 1)
	sh := st.Shards()[0]
	if r := put(t, st, "k", payload(0, 8000)); r[0].Err != nil { // alone: over the bound, still stored
		t.Fatal(r[0].Err)
	}
	try := func(i, size int) PutResult {
		out := make([]PutResult, 1)
		st.Put([]Record{{PartitionKey: []byte("k"), Data: payload(i, size)}}, []HashKey{HashPartitionKey([]byte("k"))}, out)
		return out[0]
	}
	sh.mu.Lock() // an append in progress
	var wg sync.WaitGroup
	results := make([]PutResult, 3)
	queue := func(j, i, size int) {
		want := sh.pending.Load() + int64(size+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[j] = try(i, size)
		}()
		for sh.pending.Load() != want {
			time.Sleep(time.Millisecond)
		}
	}
	queue(0, 1, 2000) // waits: 2001 bytes queued
	began := time.Now()
	refused := try(2, 1000) // 3002 > 3000
	if !errors.Is(refused.Err, ErrBusy) {
		t.Fatalf("append past the bound: %v, want ErrBusy", refused.Err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("the refusal took %v: it waited", d)
	}
	queue(1, 3, 900) // 2901: within the bound, waits
	sh.mu.Unlock()
	wg.Wait()
	for j := range 2 {
		if results[j].Err != nil {
			t.Fatalf("queued append %d: %v", j, results[j].Err)
		}
	}
	if sh.pending.Load() != 0 {
		t.Fatalf("%d bytes still counted as queued", sh.pending.Load())
	}
	got, _ := readAll(t, sh, 0)
	if len(got) != 3 || !bytes.Equal(got[1], payload(1, 2000)) || !bytes.Equal(got[2], payload(3, 900)) {
		t.Fatalf("read %d records; want the first, and the two queued ones without the refused one", len(got))
	}
}

// TestGroupByShard checks the order Put appends in: by shard index, and in
// request order within a shard, with the counting sort and with the
// comparison sort it falls back to when the indexes are far apart.
func TestGroupByShard(t *testing.T) {
	for _, indexes := range [][]int{{5, 2, 9, 2, 5, 5, 9, 2}, {100000, 0, 7, 0, 100000, 7}} {
		out := make([]PutResult, len(indexes))
		shards := map[int]*Shard{}
		b := &putBatch{}
		for i, x := range indexes {
			if shards[x] == nil {
				shards[x] = &Shard{index: x}
			}
			out[i].Shard = shards[x]
			b.order = append(b.order, i)
		}
		b.groupByShard(out)
		for k := 1; k < len(b.order); k++ {
			prev, cur := b.order[k-1], b.order[k]
			if indexes[prev] > indexes[cur] || indexes[prev] == indexes[cur] && prev > cur {
				t.Fatalf("indexes %v: order %v", indexes, b.order)
			}
		}
		if got := slices.Sorted(slices.Values(b.order)); len(got) != len(indexes) || got[0] != 0 || got[len(got)-1] != len(indexes)-1 || len(slices.Compact(got)) != len(indexes) {
			t.Fatalf("indexes %v: order %v is not a permutation", indexes, b.order)
		}
	}
}

// TestAgeRollToPreparedSegment rolls, by age in the retention pass, a
// segment whose successor is already prepared above its end: the next
// append must get the successor's base, not the old end (which the new
// segment refuses as out of order, a sticky failure).
func TestAgeRollToPreparedSegment(t *testing.T) {
	c := newClock()
	o := testOptions(t, t.TempDir(), c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "aged", 1)
	sh := st.Shards()[0]
	for i := 0; sh.spare.Load() == nil; i++ {
		if i == 100 {
			t.Fatal("no segment prepared after 100 records of 1 KiB")
		}
		put(t, st, "k", payload(i, 1000))
		sh.prepMu.Lock()
		sh.prepMu.Unlock()
	}
	spare := sh.spare.Load()
	c.Advance(2 * time.Hour) // past MaxSegmentAge
	s.Expire()
	if segs := *sh.segs.Load(); segs[len(segs)-1] != spare {
		t.Fatal("the retention pass did not roll to the prepared segment")
	}
	if sh.Tail() != spare.Base() {
		t.Fatalf("tail %d after the roll, want the prepared segment's base %d", sh.Tail(), spare.Base())
	}
	if r := put(t, st, "k", []byte("after")); r[0].Seq != spare.Base() {
		t.Fatalf("append after the roll at %d, want %d", r[0].Seq, spare.Base())
	}
}
