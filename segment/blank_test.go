package segment

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlog/shardlog/index"
)

// TestCreateBlanks checks that a batch of blanks opens as empty active
// segments holding their reservations, takes appends, and is synced the
// way the caller asks: once per phase with syncAll, file by file without.
func TestCreateBlanks(t *testing.T) {
	for _, withSyncAll := range []bool{true, false} {
		root := t.TempDir()
		dirs := []string{filepath.Join(root, "a"), filepath.Join(root, "b")}
		for _, d := range dirs {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		o := testOptions(t)
		// A stale index with a blank's base (its entries point at frames
		// the blank does not have) is replaced: Open would drop its entries
		// with a warning.
		old := t.TempDir()
		s := mustCreate(t, old, 7, o)
		mustAppend(t, s, records(7, 200, 100))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		idx, err := os.ReadFile(filepath.Join(old, IndexName(7)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirs[1], IndexName(7)), idx, 0o644); err != nil {
			t.Fatal(err)
		}
		blanks := []Blank{{dirs[0], 0, 100}, {dirs[1], 7, 3}}
		syncs := 0
		var syncAll func() error
		if withSyncAll {
			syncAll = func() error { syncs++; return nil }
		}
		if err := CreateBlanks(blanks, o, syncAll); err != nil {
			t.Fatal(err)
		}
		for _, b := range blanks {
			x, err := index.Load(filepath.Join(b.Dir, IndexName(b.Base)), o.indexCapacity())
			if err != nil || x.Len() != 0 {
				t.Fatalf("index of blank %d: %v, want an empty one", b.Base, err)
			}
		}
		if withSyncAll && syncs != 2 {
			t.Fatalf("syncAll called %d times, want 2 (data, then names)", syncs)
		}
		for _, b := range blanks {
			s := mustOpen(t, b.Dir, b.Base, true, o)
			if s.NextSeq() != b.Base || s.Reserved() != max(b.Reserve, b.Base) || s.CutBytes() != 0 {
				t.Fatalf("blank %d: next %d, reserved %d, cut %d", b.Base, s.NextSeq(), s.Reserved(), s.CutBytes())
			}
			recs := records(b.Base, 3, 100)
			mustAppend(t, s, recs)
			checkAll(t, s, recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tmps, _ := filepath.Glob(filepath.Join(b.Dir, "*.tmp"))
			if len(tmps) != 0 {
				t.Fatalf("temporary files left: %v", tmps)
			}
		}
		// Every name is taken now: the batch fails before writing anything.
		if err := CreateBlanks(blanks[:1], o, syncAll); !errors.Is(err, os.ErrExist) {
			t.Fatalf("blank over an existing segment: %v", err)
		}
	}
}

// TestCreateBlanksFailures checks that a failed batch leaves no temporary
// file and no segment that is not complete.
func TestCreateBlanksFailures(t *testing.T) {
	boom := errors.New("boom")
	for _, op := range []string{"create", "create-allocate", "create-fsync", "sync", "create-rename"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{}
			o := testOptions(t)
			o.Faults = f
			syncAll := func() error { return nil }
			if op == "sync" {
				syncAll = func() error { return boom }
			} else {
				f.set(op, boom)
			}
			if err := CreateBlanks([]Blank{{dir, 0, 10}, {dir, 5, 10}}, o, syncAll); !errors.Is(err, boom) {
				t.Fatalf("CreateBlanks with %s failing: %v", op, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Fatalf("left behind after a failed %s: %v", op, entries)
			}
		})
	}
}
