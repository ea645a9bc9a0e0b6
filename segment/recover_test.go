package segment

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRecoverCorruption damages a crashed active segment in one way per
// case. A bad region with nothing valid after it is a torn tail: the segment
// reopens to the longest valid prefix and the cut is kept as .broken. A bad
// region followed by valid frames is corruption: nothing is cut, every valid
// frame after it is kept, and a read that reaches it fails with a
// *CorruptError naming the seqs it held (and can resume after them). Either
// way the segment takes new appends with higher seqs and survives a second
// crash with nothing resurrected and the same damage reported.
func TestRecoverCorruption(t *testing.T) {
	const base, n, dataSize = 100, 50, 100
	frame := frameSize(&Record{PartitionKey: []byte("pk-0"), Data: make([]byte, dataSize)}) // no explicit hash key
	offOf := func(rs []Record, i int) int64 {
		off := int64(headerSize)
		for _, r := range rs[:i] {
			off += frameSize(&r)
		}
		return off
	}
	type env struct {
		t    *testing.T
		dir  string
		log  string
		recs []Record
	}
	tests := []struct {
		name    string
		corrupt func(e env)
		want    int   // records left: recs[:want] minus bad
		bad     []int // records in bad regions followed by valid frames, each run one error
		broken  bool  // a .broken file is expected
	}{
		{"clean crash", func(env) {}, n, nil, false},
		{"truncate mid-frame", func(e env) {
			must(e.t, os.Truncate(e.log, offOf(e.recs, 40)+frame/2))
		}, 40, nil, true},
		{"zero-filled tail (torn write)", func(e env) {
			zero(e.t, e.log, offOf(e.recs, 45)+10, offOf(e.recs, n))
		}, 45, nil, true},
		{"flipped bit in the last frame", func(e env) {
			flip(e.t, e.log, offOf(e.recs, n-1)+frameHeadSize+7)
		}, n - 1, nil, true},
		{"zeroed frame before valid frames", func(e env) {
			zero(e.t, e.log, offOf(e.recs, 20), offOf(e.recs, 21))
		}, n, []int{20}, false},
		{"zeroed run of frames before valid frames (a lost page)", func(e env) {
			zero(e.t, e.log, offOf(e.recs, 20)+5, offOf(e.recs, 24)-3)
		}, n, []int{20, 21, 22, 23}, false},
		{"flipped bit in a payload", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 30)+frameHeadSize+7)
		}, n, []int{30}, false},
		{"flipped bit in length word", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 10)+1)
		}, n, []int{10}, false},
		{"flipped bit in data length", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 12)+28)
		}, n, []int{12}, false},
		{"flipped bit in seq", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 14)+9)
		}, n, []int{14}, false},
		{"flipped bit in the first frame", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 0)+frameHeadSize+2)
		}, n, []int{0}, false},
		{"two flipped bits far apart", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 5)+2)
			flip(e.t, e.log, offOf(e.recs, 35)+frameHeadSize+50)
		}, n, []int{5, 35}, false},
		{"flipped bit mid-file and a torn tail", func(e env) {
			flip(e.t, e.log, offOf(e.recs, 25)+frameHeadSize+1)
			zero(e.t, e.log, offOf(e.recs, 47)+40, offOf(e.recs, n))
		}, 47, []int{25}, true},
		{"missing idx", func(e env) {
			must(e.t, os.Remove(filepath.Join(e.dir, IndexName(base))))
		}, n, nil, false},
		{"garbage idx", func(e env) {
			must(e.t, os.WriteFile(filepath.Join(e.dir, IndexName(base)), []byte("garbage, not an index at all"), 0o644))
		}, n, nil, false},
		{"stray tmp and junk file", func(e env) {
			must(e.t, os.WriteFile(e.log+".tmp", []byte("half a compressed file"), 0o644))
			must(e.t, os.WriteFile(filepath.Join(e.dir, "README"), []byte("junk"), 0o644))
		}, n, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t)
			o.IndexIntervalBytes = 300 // entries every 2-3 frames
			s := mustCreate(t, dir, base, o)
			var recs []Record
			for i := 0; i < n; i++ {
				r := record(base+uint64(i), dataSize)
				r.ExplicitHashKey = nil
				r.PartitionKey = []byte("pk-0")
				recs = append(recs, r)
			}
			mustAppend(t, s, recs[:n/2])
			mustAppend(t, s, recs[n/2:])
			crash(s)
			tt.corrupt(env{t, dir, s.Path(), recs})

			bases, err := List(dir, o.Logger)
			if err != nil || len(bases) != 1 || bases[0] != base {
				t.Fatalf("List = %v, %v", bases, err)
			}
			var kept []Record
			var bad [][2]uint64
			for i, r := range recs[:tt.want] {
				if slices.Contains(tt.bad, i) {
					if k := len(bad) - 1; k >= 0 && bad[k][1]+1 == r.Seq {
						bad[k][1] = r.Seq
					} else {
						bad = append(bad, [2]uint64{r.Seq, r.Seq})
					}
					continue
				}
				kept = append(kept, r)
			}
			r := mustOpen(t, dir, base, true, o)
			checkDamaged(t, r, kept, bad)
			if _, err := os.Stat(s.Path() + ".broken"); (err == nil) != tt.broken {
				t.Fatalf(".broken exists = %v, want %v", err == nil, tt.broken)
			}
			if (r.CutBytes() > 0) != tt.broken {
				t.Fatalf("CutBytes = %d, want a cut %v", r.CutBytes(), tt.broken)
			}
			if r.idxLen() == 0 {
				t.Fatal("index not rebuilt")
			}
			more := records(1000, 5, dataSize)
			mustAppend(t, r, more)
			crash(r)

			r2 := mustOpen(t, dir, base, true, o)
			defer r2.Close()
			checkDamaged(t, r2, append(kept[:len(kept):len(kept)], more...), bad)
			if _, err := os.Stat(s.Path() + ".tmp"); !os.IsNotExist(err) {
				t.Fatalf("stray .tmp survived List: %v", err)
			}
		})
	}
}

// TestCrashWithoutClose appends across several batches, leaks the segment
// (no Sync, no Close) and reopens: every appended record is there.
func TestCrashWithoutClose(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	s := mustCreate(t, dir, 0, o)
	var want []Record
	for b := 0; b < 20; b++ {
		rs := records(uint64(len(want)), 37, 333)
		mustAppend(t, s, rs)
		want = append(want, rs...)
	}
	// Leak s: its mapping stays, exactly as after kill -9 the page cache does.
	r := mustOpen(t, dir, 0, true, o)
	defer r.Close()
	checkAll(t, r, want)
}

func TestInjectedFaults(t *testing.T) {
	boom := errors.New("injected")
	t.Run("create", func(t *testing.T) {
		dir := t.TempDir()
		o := testOptions(t)
		var f faults
		f.set("create", boom)
		o.Faults = &f
		if _, err := Create(dir, 0, 0, o); !errors.Is(err, boom) {
			t.Fatalf("Create = %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("failed Create left %d files", len(entries))
		}
	})
	t.Run("append", func(t *testing.T) {
		dir := t.TempDir()
		o := testOptions(t)
		var f faults
		o.Faults = &f
		s := mustCreate(t, dir, 0, o)
		mustAppend(t, s, records(0, 10, 100))
		size, next, idx := s.Size(), s.NextSeq(), s.idxLen()
		f.set("append", boom)
		if n, err := s.Append(records(10, 10, 100)); n != 0 || !errors.Is(err, boom) {
			t.Fatalf("Append = %d, %v", n, err)
		}
		if s.Size() != size || s.NextSeq() != next || s.idxLen() != idx {
			t.Fatal("failed Append changed the segment")
		}
		f.set("append", nil)
		mustAppend(t, s, records(10, 10, 100))
		crash(s)
		r := mustOpen(t, dir, 0, true, o)
		defer r.Close()
		checkAll(t, r, records(0, 20, 100))
	})
	t.Run("sync is sticky", func(t *testing.T) {
		dir := t.TempDir()
		o := testOptions(t)
		var f faults
		o.Faults = &f
		s := mustCreate(t, dir, 0, o)
		mustAppend(t, s, records(0, 10, 100))
		f.set("sync", boom)
		if err := s.Sync(); !errors.Is(err, boom) {
			t.Fatalf("Sync = %v", err)
		}
		f.set("sync", nil)
		if err := s.Sync(); !errors.Is(err, boom) {
			t.Fatalf("second Sync = %v, want the sticky error", err)
		}
		if _, err := s.Append(records(10, 1, 100)); !errors.Is(err, boom) {
			t.Fatalf("Append after failed Sync = %v", err)
		}
		if err := s.Seal(); !errors.Is(err, boom) {
			t.Fatalf("Seal after failed Sync = %v", err)
		}
		crash(s)
		r := mustOpen(t, dir, 0, true, o)
		defer r.Close()
		checkAll(t, r, records(0, 10, 100))
		mustAppend(t, r, records(10, 5, 100))
		checkAll(t, r, records(0, 15, 100))
	})
	t.Run("seal", func(t *testing.T) {
		dir := t.TempDir()
		o := testOptions(t)
		var f faults
		o.Faults = &f
		s := mustCreate(t, dir, 0, o)
		defer s.Close()
		mustAppend(t, s, records(0, 10, 100))
		f.set("seal", boom)
		if err := s.Seal(); !errors.Is(err, boom) || s.Sealed() {
			t.Fatalf("Seal = %v, sealed %v", err, s.Sealed())
		}
		f.set("seal", nil)
		mustAppend(t, s, records(10, 1, 100))
		if err := s.Seal(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, s, records(0, 11, 100))
	})
}

func (s *Segment) idxLen() int { return s.cur.Load().idx.Len() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func zero(t *testing.T, path string, from, to int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	must(t, err)
	defer f.Close()
	_, err = f.WriteAt(make([]byte, to-from), from)
	must(t, err)
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b := []byte{0}
	_, err = f.ReadAt(b, off)
	must(t, err)
	b[0] ^= 0x10
	_, err = f.WriteAt(b, off)
	must(t, err)
}
