package segment

import (
	"errors"
	"os"
	"testing"

	"github.com/shardlog/shardlog/index/durable"
)

// TestCrashAroundGrowth crashes a segment around the step that gives its
// file more blocks: after the allocation but before any frame reached it,
// and with the file extended only part of the way (as an interrupted
// fallocate may leave it, to a size that is not a page multiple). Each
// case must reopen to every record appended before, keep appending with
// increasing seqs, grow again and survive a second crash.
func TestCrashAroundGrowth(t *testing.T) {
	f := func(name string, extend func(t *testing.T, path string, allocated int64)) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t)
			o.InitialBytes = 16 << 10
			s := mustCreate(t, dir, 0, o)
			var want []Record
			for s.allocated == o.InitialBytes {
				rs := records(uint64(len(want)), 3, 500)
				mustAppend(t, s, rs)
				want = append(want, rs...)
			}
			// The file grew once; fill it up to its allocation.
			for {
				rs := records(uint64(len(want)), 1, 500)
				if s.end.Load()+frameSize(&rs[0]) > s.allocated {
					break
				}
				mustAppend(t, s, rs)
				want = append(want, rs...)
			}
			extend(t, s.Path(), s.allocated)
			crash(s)

			r := mustOpen(t, dir, 0, true, o)
			checkAll(t, r, want)
			for i := 0; i < 200; i++ { // several more growths
				rs := records(uint64(len(want)), 5, 500)
				mustAppend(t, r, rs)
				want = append(want, rs...)
			}
			checkAll(t, r, want)
			crash(r)
			r = mustOpen(t, dir, 0, true, o)
			defer r.Close()
			checkAll(t, r, want)
		})
	}
	f("grown, nothing written yet", func(t *testing.T, path string, allocated int64) {
		fh, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := durable.Allocate(fh, 2*allocated); err != nil {
			t.Fatal(err)
		}
	})
	f("growth interrupted part of the way", func(t *testing.T, path string, allocated int64) {
		if err := os.Truncate(path, allocated+5000); err != nil {
			t.Fatal(err)
		}
	})
	f("no growth (crash before the allocation)", func(t *testing.T, path string, allocated int64) {})
}

// TestGrowthFollowsData checks that a segment's file grows with its frames,
// by doubling from InitialBytes, and that a failed allocation (a full disk)
// changes nothing and is not sticky.
func TestGrowthFollowsData(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	o.InitialBytes = 16 << 10
	ff := &faults{}
	o.Faults = ff
	s := mustCreate(t, dir, 0, o)
	defer s.Close()
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	mustAppend(t, s, records(0, 1, 100))
	if got := size(); got != o.InitialBytes {
		t.Fatalf("one record: file of %d bytes, want InitialBytes %d", got, o.InitialBytes)
	}
	want := records(0, 1, 100)
	full := errors.New("no space")
	ff.set("grow", full)
	for {
		rs := records(uint64(len(want)), 1, 1000)
		n, err := s.Append(rs)
		if err != nil {
			if n != 0 || !errors.Is(err, ErrNoSpace) || !errors.Is(err, full) {
				t.Fatalf("Append past the allocation: %d, %v; want 0 and ErrNoSpace", n, err)
			}
			break
		}
		want = append(want, rs...)
	}
	if got := size(); got != o.InitialBytes {
		t.Fatalf("failed growth: file of %d bytes, want %d", got, o.InitialBytes)
	}
	checkAll(t, s, want)
	ff.set("grow", nil)
	rs := records(uint64(len(want)), 1, 1000)
	mustAppend(t, s, rs)
	want = append(want, rs...)
	if got := size(); got != 2*o.InitialBytes {
		t.Fatalf("after growth: file of %d bytes, want %d (doubled)", got, 2*o.InitialBytes)
	}
	checkAll(t, s, want)
}
