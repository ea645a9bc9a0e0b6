package segment

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAppendRead(t *testing.T) {
	o := testOptions(t)
	s := mustCreate(t, t.TempDir(), 100, o)
	defer s.Close()
	if s.NextSeq() != 100 || !s.Empty() || s.Size() != headerSize {
		t.Fatalf("new segment: NextSeq %d Empty %v Size %d", s.NextSeq(), s.Empty(), s.Size())
	}
	if got, err := s.Read(0, 0, 0, nil); err != nil || len(got) != 0 {
		t.Fatalf("Read empty = %v, %v", got, err)
	}
	want := records(100, 300, 100)
	mustAppend(t, s, want[:1])
	mustAppend(t, s, want[1:])
	checkAll(t, s, want)
	if s.FirstTimeMs() != want[0].ArrivalMs || s.LastTimeMs() != want[299].ArrivalMs {
		t.Fatalf("times %d..%d", s.FirstTimeMs(), s.LastTimeMs())
	}

	f := func(seq uint64, maxRecords, maxBytes int, wantFirst uint64, wantN int) {
		t.Helper()
		got, err := s.Read(seq, maxRecords, maxBytes, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != wantN || (wantN > 0 && got[0].Seq != wantFirst) {
			t.Fatalf("Read(%d, %d, %d): %d records from %v; want %d from %d", seq, maxRecords, maxBytes, len(got), got[0].Seq, wantN, wantFirst)
		}
	}
	f(0, 0, 0, 100, 300)
	f(250, 0, 0, 250, 150)
	f(250, 10, 0, 250, 10)
	f(250, 0, 1000, 250, 10)
	f(250, 0, 1099, 250, 10)
	f(250, 0, 1, 250, 1) // always at least one record
	f(399, 0, 0, 399, 1)
	if got, _ := s.Read(400, 0, 0, nil); len(got) != 0 {
		t.Fatalf("Read past the end returned %d records", len(got))
	}
	// Returned slices cannot grow into the next frame.
	got, _ := s.Read(100, 1, 0, nil)
	if cap(got[0].Data) != len(got[0].Data) || cap(got[0].PartitionKey) != len(got[0].PartitionKey) {
		t.Fatal("returned slices have spare capacity into the mapping")
	}
}

func TestAppendErrors(t *testing.T) {
	o := testOptions(t)
	o.MaxSegmentBytes = 64 << 10
	s := mustCreate(t, t.TempDir(), 10, o)
	defer s.Close()
	f := func(rs []Record, wantN int, wantErr error) {
		t.Helper()
		next, size := s.NextSeq(), s.Size()
		n, err := s.Append(rs)
		if n != wantN || !errors.Is(err, wantErr) {
			t.Fatalf("Append = %d, %v; want %d, %v", n, err, wantN, wantErr)
		}
		if err != nil && (s.NextSeq() != next || s.Size() != size) {
			t.Fatal("failed Append changed the segment")
		}
	}
	f(records(9, 1, 10), 0, ErrOutOfOrder) // below base
	f([]Record{record(10, 10), record(10, 10)}, 0, ErrOutOfOrder)
	late := record(11, 10)
	late.ArrivalMs = 0
	f([]Record{record(10, 10), late}, 0, ErrOutOfOrder)
	f([]Record{{Seq: 10, Data: make([]byte, MaxDataBytes+1)}}, 0, ErrTooLarge)
	f([]Record{{Seq: 10, PartitionKey: make([]byte, MaxPartitionKeyBytes+1)}}, 0, ErrTooLarge)
	f(nil, 0, nil)
	// Fill up: a batch that does not fit is written in part, without error.
	n, err := s.Append(records(10, 100, 1000))
	if err != nil || n == 0 || n == 100 {
		t.Fatalf("Append over capacity = %d, %v", n, err)
	}
	next := uint64(10 + n)
	f(records(next, 1, 1000), 0, nil)
	f(records(next, 1, 10), 1, nil)
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	f(records(next+1, 1, 10), 0, ErrSealed)
}

func TestSealAndReopen(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	s := mustCreate(t, dir, 0, o)
	want := records(0, 500, 200)
	mustAppend(t, s, want)
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync after Seal: %v", err)
	}
	fi, _ := os.Stat(s.Path())
	if fi.Size() != s.Size() {
		t.Fatalf("sealed file is %d bytes, Size %d", fi.Size(), s.Size())
	}
	checkAll(t, s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(0, 0, 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}

	r := mustOpen(t, dir, 0, false, o)
	if !r.Sealed() || !r.CreatedAt().Equal(s.CreatedAt()) {
		t.Fatalf("reopened: sealed %v created %v want %v", r.Sealed(), r.CreatedAt(), s.CreatedAt())
	}
	checkAll(t, r, want)
	if _, err := r.Append(records(500, 1, 1)); !errors.Is(err, ErrSealed) {
		t.Fatalf("Append to sealed = %v", err)
	}
	r.Close()

	// A cleanly sealed segment can become active again (the newest segment
	// after a clean shutdown): it grows again as it takes appends.
	a := mustOpen(t, dir, 0, true, o)
	defer a.Close()
	mustAppend(t, a, records(500, 10, 200))
	want = append(want, records(500, 10, 200)...)
	checkAll(t, a, want)
	if fi, _ := os.Stat(a.Path()); fi.Size() < a.Size() || fi.Size() > o.MaxSegmentBytes {
		t.Fatalf("reactivated file is %d bytes for %d bytes of frames", fi.Size(), a.Size())
	}
}

func TestOpenRefusesUnknownVersion(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	s := mustCreate(t, dir, 0, o)
	s.Close()
	f := func(mutate func(h *header, b []byte), want error) {
		t.Helper()
		b := make([]byte, headerSize)
		h := header{base: 0, createdNs: 1}
		h.put(b)
		mutate(&h, b)
		fh, err := os.OpenFile(s.Path(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fh.WriteAt(b, 0)
		fh.Close()
		for _, active := range []bool{false, true} {
			if _, err := Open(dir, 0, active, o); !errors.Is(err, want) {
				t.Fatalf("Open(active=%v) = %v, want %v", active, err, want)
			}
		}
	}
	f(func(h *header, b []byte) { b[8] = 2; putHeaderCRC(b) }, ErrVersion)
	f(func(h *header, b []byte) { h.flags = 1 << 7; h.put(b) }, ErrVersion)
	f(func(h *header, b []byte) { b[0] = 'X' }, ErrBadHeader)
	f(func(h *header, b []byte) { b[20] = 1 }, ErrBadHeader) // checksum
	f(func(h *header, b []byte) { h.base = 5; h.put(b) }, ErrBadHeader)
}

func TestSeekTime(t *testing.T) {
	o := testOptions(t)
	s := mustCreate(t, t.TempDir(), 0, o)
	defer s.Close()
	rs := records(0, 1000, 50) // ArrivalMs = T + seq/3
	mustAppend(t, s, rs)
	f := func(ms int64, wantSeq uint64, wantOK bool) {
		t.Helper()
		seq, ok, err := s.SeekTime(ms)
		if err != nil || ok != wantOK || seq != wantSeq {
			t.Fatalf("SeekTime(%d) = %d, %v, %v; want %d, %v", ms, seq, ok, err, wantSeq, wantOK)
		}
	}
	t0 := rs[0].ArrivalMs
	f(0, 0, true)
	f(t0, 0, true)
	f(t0+1, 3, true)
	f(t0+200, 600, true)
	f(t0+333, 999, true)
	f(t0+334, 0, false)
}

func TestRetireAndRefs(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	s := mustCreate(t, dir, 0, o)
	mustAppend(t, s, records(0, 10, 10))
	if !s.Acquire() {
		t.Fatal("Acquire on a live segment failed")
	}
	got, _ := s.Read(0, 0, 0, nil)
	s.Retire(true)
	s.Retire(true) // idempotent
	// The reader's reference keeps the mapping: its slices stay valid.
	if string(got[9].Data) != string(record(9, 10).Data) {
		t.Fatal("data changed under a reader")
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("file removed while a reader holds it: %v", err)
	}
	s.Release()
	if s.Acquire() {
		t.Fatal("Acquire after the last release succeeded")
	}
	for _, p := range []string{s.Path(), filepath.Join(dir, IndexName(0))} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s not removed: %v", p, err)
		}
	}
	if _, err := s.Read(0, 0, 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after retire = %v", err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	for _, base := range []uint64{300, 0, 20} {
		mustCreate(t, dir, base, o).Close()
	}
	for _, name := range []string{"00000000000000000020.log.tmp", "junk.txt", IndexName(77), "00000000000000000300.log.broken", "123.log"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	bases, err := List(dir, o.Logger)
	if err != nil {
		t.Fatal(err)
	}
	if len(bases) != 3 || bases[0] != 0 || bases[1] != 20 || bases[2] != 300 {
		t.Fatalf("List = %v", bases)
	}
	for name, want := range map[string]bool{"00000000000000000020.log.tmp": false, IndexName(77): false, "junk.txt": true, "123.log": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != want {
			t.Fatalf("%s exists = %v, want %v", name, err == nil, want)
		}
	}
}

func TestFileGrowsAheadOfAppends(t *testing.T) {
	o := testOptions(t)
	dir := t.TempDir()
	s := mustCreate(t, dir, 0, o)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if got := size(); got != o.InitialBytes {
		t.Fatalf("new file has %d bytes, want InitialBytes %d", got, o.InitialBytes)
	}
	want := records(0, 600, 1000) // ~600 KiB: several doublings
	mustAppend(t, s, want)
	if got := size(); got < s.Size() || got > o.MaxSegmentBytes {
		t.Fatalf("file has %d bytes for %d bytes of frames (max %d)", got, s.Size(), o.MaxSegmentBytes)
	}
	checkAll(t, s, want)
	// A crash (no Close) and recovery read only what the file holds.
	r := mustOpen(t, dir, 0, true, o)
	defer r.Close()
	checkAll(t, r, want)
	more := records(600, 500, 1000) // more than the rest of the 1 MiB
	n, err := r.Append(more)
	if err != nil || n == 0 || n == len(more) {
		t.Fatalf("Append past the old size: n=%d err=%v (want a partial write at 1 MiB)", n, err)
	}
	checkAll(t, r, append(want, more[:n]...))
}

func TestFilesBoundsDescriptors(t *testing.T) {
	o := testOptions(t)
	o.Files = NewFiles(2)
	dir := t.TempDir()
	fds0 := openFDs(t)
	var segs []*Segment
	var want [][]Record
	for i := 0; i < 5; i++ {
		s, err := Create(dir, uint64(i)<<20, uint64(i)<<20, o)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
		want = append(want, nil)
	}
	// Round-robin appends: every write after the first round finds its
	// descriptor closed by the others and opens it again.
	for round := 0; round < 4; round++ {
		for i, s := range segs {
			recs := records(uint64(i)<<20+uint64(len(want[i])), 10, 200)
			mustAppend(t, s, recs)
			want[i] = append(want[i], recs...)
			if n := o.Files.Open(); n > 2 {
				t.Fatalf("%d descriptors kept, want at most 2", n)
			}
		}
	}
	if got := openFDs(t) - fds0; got > 2 {
		t.Fatalf("%d descriptors open in the process after the appends, want at most 2", got)
	}
	for i, s := range segs {
		checkAll(t, s, want[i])
		if i%2 == 0 {
			if err := s.Seal(); err != nil {
				t.Fatal(err)
			}
		} else if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := o.Files.Open(); n != 0 {
		t.Fatalf("%d descriptors kept after every segment was sealed or closed", n)
	}
	for i, s := range segs {
		if i%2 == 0 {
			checkAll(t, s, want[i]) // sealed: still mapped, read-only
			s.Close()
		}
	}
	if got := openFDs(t) - fds0; got > 0 {
		t.Fatalf("%d descriptors left open", got)
	}
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
