package shard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWalk checks that Walk sees a data directory as the store does
// (stream names from stream.json, shard ranges, segment files) and, unlike
// Open, leaves what an interrupted create or reshard left behind in place.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, testOptions(t, dir, nil))
	st := mustCreate(t, s, "Orders", 2)
	mustCreate(t, s, "audit", 1)
	for i := 0; i < 200; i++ {
		put(t, st, "k", []byte(strings.Repeat("x", 1000))) // several 64 KiB segments
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stray := []string{
		filepath.Join(dir, streamsDir, dirName("half")+tmpSuffix),
		filepath.Join(st.dir, shardDirPrefix+"000000000099"),
	}
	for _, d := range stray {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	streams, err := Walk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 2 || streams[0].Name != "Orders" || streams[1].Name != "audit" {
		t.Fatalf("Walk found streams %+v, want Orders and audit", streams)
	}
	orders := streams[0]
	if orders.Dir != st.dir || orders.Mode != ModeProvisioned || orders.RetentionHours != 24 || len(orders.Shards) != 3 {
		t.Fatalf("Orders: %+v", orders)
	}
	ranges := SplitEvenly(2)
	segs := 0
	for i, sh := range orders.Shards[:2] {
		if sh.ID != shardID(i) || !sh.Listed || sh.HashRange != ranges[i] || sh.Dir != filepath.Join(st.dir, sh.ID) {
			t.Fatalf("shard %d: %+v", i, sh)
		}
		segs += len(sh.Segments)
	}
	if segs < 3 {
		t.Fatalf("Walk found %d segments in Orders, want several", segs)
	}
	if unlisted := orders.Shards[2]; unlisted.Listed || len(unlisted.Segments) != 0 {
		t.Fatalf("the shard directory stream.json does not list: %+v", unlisted)
	}
	for _, d := range stray {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("Walk removed %s: %v", d, err)
		}
	}

	if _, err := Walk(filepath.Join(dir, "nothing")); err == nil {
		t.Fatal("Walk of a directory without shardlog.meta succeeded")
	}
	meta := filepath.Join(st.dir, streamFile)
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, []byte(strings.Replace(string(b), `"version": 1`, `"version": 2`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Walk(dir); !errors.Is(err, ErrFormat) {
		t.Fatalf("Walk of a stream.json of another version = %v, want ErrFormat", err)
	}
}
