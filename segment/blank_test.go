package segment

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlog/shardlog/index"
)

// makeBlank drafts, syncs, publishes and syncs b, as an owner would.
func makeBlank(t *testing.T, b Blank, o Options) {
	t.Helper()
	if err := b.Draft(o); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncDraft(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Publish(o); err != nil || !ok {
		t.Fatalf("publish: %v %v", ok, err)
	}
	if err := b.SyncName(); err != nil {
		t.Fatal(err)
	}
}

// TestBlankSteps checks that a blank opens as an empty active segment
// holding its reservation and takes appends, that a stale index with its
// base is replaced, and that a taken name fails the draft.
func TestBlankSteps(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	// A stale index with the blank's base (its entries point at frames
	// the blank does not have): Open would drop its entries with a warning.
	old := t.TempDir()
	s := mustCreate(t, old, 7, o)
	mustAppend(t, s, records(7, 200, 100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stale, err := os.ReadFile(filepath.Join(old, IndexName(7)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexName(7)), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Blank{{dir, 0, 100}, {dir, 7, 3}} {
		makeBlank(t, b, o)
		x, err := index.Load(filepath.Join(dir, IndexName(b.Base)), o.indexCapacity())
		if err != nil || x.Len() != 0 {
			t.Fatalf("index of blank %d: %v, want an empty one", b.Base, err)
		}
		s := mustOpen(t, dir, b.Base, true, o)
		if s.NextSeq() != b.Base || s.Reserved() != max(b.Reserve, b.Base) || s.CutBytes() != 0 {
			t.Fatalf("blank %d: next %d, reserved %d, cut %d", b.Base, s.NextSeq(), s.Reserved(), s.CutBytes())
		}
		recs := records(b.Base, 3, 100)
		mustAppend(t, s, recs)
		checkAll(t, s, recs)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// The name is taken now: a second draft fails before writing.
		if err := b.Draft(o); !errors.Is(err, os.ErrExist) {
			t.Fatalf("draft over an existing segment: %v", err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// TestBlankDraftGone checks that a draft a List removed is reported gone
// by SyncDraft and Publish, which then change nothing.
func TestBlankDraftGone(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	b := Blank{dir, 0, 10}
	if err := b.Draft(o); err != nil {
		t.Fatal(err)
	}
	if bases, err := List(dir, o.Logger); err != nil || len(bases) != 0 {
		t.Fatalf("List over a draft: %v %v", bases, err)
	}
	if err := b.SyncDraft(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncDraft of a removed draft: %v", err)
	}
	if ok, err := b.Publish(o); ok || err != nil {
		t.Fatalf("Publish of a removed draft: %v %v", ok, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left: %v", entries)
	}
}

// TestBlankDraftFailures checks that a failed draft leaves nothing behind.
func TestBlankDraftFailures(t *testing.T) {
	boom := errors.New("boom")
	for _, op := range []string{"create", "create-allocate"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{}
			f.set(op, boom)
			o := testOptions(t)
			o.Faults = f
			if err := (Blank{dir, 0, 10}).Draft(o); !errors.Is(err, boom) {
				t.Fatalf("Draft with %s failing: %v", op, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("left behind after a failed %s: %v", op, entries)
			}
		})
	}
}
