package index

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func mustOpen(t *testing.T, path string, capacity int) *Index {
	t.Helper()
	x, err := Open(path, capacity)
	if err != nil {
		t.Fatalf("Open(%s, %d): %v", path, capacity, err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func mustAppend(t *testing.T, x *Index, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := x.Append(e); err != nil {
			t.Fatalf("Append(%+v): %v", e, err)
		}
	}
}

func TestOpenPreallocates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.idx")
	x := mustOpen(t, path, 100) // below initialEntries: allocated whole
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 100*EntrySize {
		t.Fatalf("size = %d, want %d", fi.Size(), 100*EntrySize)
	}
	if x.Len() != 0 || x.Cap() != 100 {
		t.Fatalf("Len, Cap = %d, %d; want 0, 100", x.Len(), x.Cap())
	}
	if _, ok := x.Last(); ok {
		t.Fatal("Last on empty index: ok")
	}
}

func TestAppendReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.idx")
	x := mustOpen(t, path, 10)
	es := []Entry{{Seq: 1, Off: 64, TimeMs: 5}, {Seq: 7, Off: 4200, TimeMs: 5}, {Seq: 9, Off: 9000, TimeMs: 8}}
	mustAppend(t, x, es...)
	// Reopen without Close or Sync: the shared mapping already wrote the page cache.
	y := mustOpen(t, path, 10)
	if y.Len() != len(es) {
		t.Fatalf("reopened Len = %d, want %d", y.Len(), len(es))
	}
	for i, want := range es {
		if got := y.Entry(i); got != want {
			t.Fatalf("Entry(%d) = %+v, want %+v", i, got, want)
		}
	}
	// A smaller capacity keeps the larger existing file.
	z := mustOpen(t, path, 2)
	if z.Cap() != 10 || z.Len() != 3 {
		t.Fatalf("Cap, Len = %d, %d; want 10, 3", z.Cap(), z.Len())
	}
}

func TestAppendErrors(t *testing.T) {
	x := mustOpen(t, filepath.Join(t.TempDir(), "0.idx"), 2)
	f := func(e Entry, want error) {
		t.Helper()
		n := x.Len()
		if err := x.Append(e); !errors.Is(err, want) {
			t.Fatalf("Append(%+v) = %v, want %v", e, err, want)
		}
		if want != nil && x.Len() != n {
			t.Fatalf("failed Append changed Len %d -> %d", n, x.Len())
		}
	}
	f(Entry{Seq: 0, Off: 0}, ErrOutOfOrder) // first Off must be > 0
	f(Entry{Seq: 0, Off: 32, TimeMs: 10}, nil)
	f(Entry{Seq: 0, Off: 64, TimeMs: 10}, ErrOutOfOrder) // Seq not increasing
	f(Entry{Seq: 1, Off: 32, TimeMs: 10}, ErrOutOfOrder) // Off not increasing
	f(Entry{Seq: 1, Off: 64, TimeMs: 9}, ErrOutOfOrder)  // time going back
	f(Entry{Seq: 1, Off: 64, TimeMs: 10}, nil)
	f(Entry{Seq: 2, Off: 96, TimeMs: 10}, ErrFull)
}

// TestOpenStopsAtGarbage checks that the valid length comes from the entry
// order, never from the file size.
func TestOpenStopsAtGarbage(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry // written raw, in order
		want    int
	}{
		{"empty", nil, 0},
		{"zero first", []Entry{{}}, 0},
		{"all valid", []Entry{{1, 10, 1}, {2, 20, 1}, {3, 30, 2}}, 3},
		{"zero tail", []Entry{{1, 10, 1}, {2, 20, 1}, {}, {4, 40, 2}}, 2},
		{"seq repeats", []Entry{{1, 10, 1}, {1, 20, 1}}, 1},
		{"off goes back", []Entry{{1, 10, 1}, {2, 5, 1}}, 1},
		{"time goes back", []Entry{{1, 10, 5}, {2, 20, 4}}, 1},
		{"torn half entry", []Entry{{1, 10, 1}, {2, 0, 0}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.idx")
			buf := make([]byte, 8*EntrySize)
			for i, e := range tt.entries {
				putEntry(buf[i*EntrySize:], e)
			}
			if err := os.WriteFile(path, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			x := mustOpen(t, path, 8)
			if x.Len() != tt.want {
				t.Fatalf("Len = %d, want %d", x.Len(), tt.want)
			}
			// The index takes appends after the valid prefix.
			last, _ := x.Last()
			mustAppend(t, x, Entry{Seq: last.Seq + 100, Off: last.Off + 100, TimeMs: last.TimeMs + 100})
		})
	}
}

func putEntry(b []byte, e Entry) {
	for i := 0; i < 8; i++ {
		b[i] = byte(e.Seq >> (8 * i))
		b[8+i] = byte(e.Off >> (8 * i))
		b[16+i] = byte(uint64(e.TimeMs) >> (8 * i))
	}
}

func TestLookup(t *testing.T) {
	x := mustOpen(t, filepath.Join(t.TempDir(), "0.idx"), 8)
	mustAppend(t, x, Entry{10, 64, 100}, Entry{20, 200, 100}, Entry{30, 300, 150}, Entry{40, 400, 200})
	seq := func(s uint64, want uint64, wantOK bool) {
		t.Helper()
		e, ok := x.LookupSeq(s)
		if ok != wantOK || (ok && e.Seq != want) {
			t.Fatalf("LookupSeq(%d) = %+v, %v; want seq %d, %v", s, e, ok, want, wantOK)
		}
	}
	seq(0, 0, false)
	seq(9, 0, false)
	seq(10, 10, true)
	seq(29, 20, true)
	seq(40, 40, true)
	seq(1<<63, 40, true)
	tm := func(ms int64, want uint64, wantOK bool) {
		t.Helper()
		e, ok := x.LookupTime(ms)
		if ok != wantOK || (ok && e.Seq != want) {
			t.Fatalf("LookupTime(%d) = %+v, %v; want seq %d, %v", ms, e, ok, want, wantOK)
		}
	}
	tm(50, 0, false)
	tm(100, 0, false) // no entry strictly before 100: scan from the start
	tm(101, 20, true) // the last entry at 100, the record >= 101 is after it
	tm(150, 20, true)
	tm(151, 30, true)
	tm(1<<62, 40, true)
}

func TestTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.idx")
	x := mustOpen(t, path, 8)
	mustAppend(t, x, Entry{1, 10, 1}, Entry{2, 20, 1}, Entry{3, 30, 1})
	if err := x.Truncate(4); err == nil {
		t.Fatal("Truncate beyond Len: no error")
	}
	if err := x.Truncate(1); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 1 {
		t.Fatalf("Len = %d, want 1", x.Len())
	}
	if y := mustOpen(t, path, 8); y.Len() != 1 {
		t.Fatalf("reopened Len = %d, want 1 (truncated entries must be zeroed)", y.Len())
	}
	mustAppend(t, x, Entry{2, 15, 1})
}

func TestSealCloseRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.idx")
	x, err := Open(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, x, Entry{1, 10, 1}, Entry{2, 20, 1})
	if err := x.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := x.Append(Entry{3, 30, 1}); !errors.Is(err, ErrSealed) {
		t.Fatalf("Append after Seal = %v, want ErrSealed", err)
	}
	if e, ok := x.LookupSeq(5); !ok || e.Seq != 2 {
		t.Fatalf("LookupSeq after Seal = %+v, %v", e, ok)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 2*EntrySize {
		t.Fatalf("sealed size = %d, want %d", fi.Size(), 2*EntrySize)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close = %v, want ErrClosed", err)
	}
	y, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != 2 {
		t.Fatalf("reopened sealed Len = %d, want 2", y.Len())
	}
	if err := y.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file still there after Remove: %v", err)
	}
	// An empty file maps nothing and still works.
	z := mustOpen(t, filepath.Join(t.TempDir(), "e.idx"), 0)
	if _, ok := z.LookupSeq(1); ok || z.Len() != 0 {
		t.Fatal("empty index found an entry")
	}
	if err := z.Append(Entry{1, 1, 1}); !errors.Is(err, ErrFull) {
		t.Fatalf("Append to zero-capacity = %v, want ErrFull", err)
	}
}

// TestConcurrentLookup runs lookups while one goroutine appends; run with -race.
func TestConcurrentLookup(t *testing.T) {
	const n = 5000
	x := mustOpen(t, filepath.Join(t.TempDir(), "0.idx"), n)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				l := x.Len()
				if l == 0 {
					continue
				}
				e, ok := x.LookupSeq(uint64(l-1) * 2)
				if !ok || e.Seq != uint64(l-1)*2 || e.Off != uint64(l)*100 {
					t.Errorf("LookupSeq with Len %d = %+v, %v", l, e, ok)
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		if err := x.Append(Entry{Seq: uint64(i) * 2, Off: uint64(i+1) * 100, TimeMs: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

func TestAllocationGrowsWithAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.idx")
	const capacity = 10 * initialEntries
	x := mustOpen(t, path, capacity)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if got := size(); got != initialEntries*EntrySize {
		t.Fatalf("new index allocated %d bytes, want %d", got, initialEntries*EntrySize)
	}
	const n = 3*initialEntries + 5
	for i := 1; i <= n; i++ {
		mustAppend(t, x, Entry{Seq: uint64(i), Off: uint64(64 * i), TimeMs: int64(i)})
	}
	if got := size(); got != 4*initialEntries*EntrySize {
		t.Fatalf("after %d entries the file has %d bytes, want %d", n, got, 4*initialEntries*EntrySize)
	}
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y := mustOpen(t, path, capacity)
	if y.Len() != n || y.Cap() != capacity {
		t.Fatalf("reopened Len, Cap = %d, %d; want %d, %d", y.Len(), y.Cap(), n, capacity)
	}
	if e, _ := y.LookupSeq(2 * initialEntries); e.Seq != 2*initialEntries {
		t.Fatalf("LookupSeq(%d) = %+v", 2*initialEntries, e)
	}
	mustAppend(t, y, Entry{Seq: n + 1, Off: 64 * (n + 1), TimeMs: n + 1})
}
