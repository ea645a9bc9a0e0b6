package shard

import (
	"testing"

	"github.com/shardlog/shardlog/segment"
)

func TestSegmentsListsRolledSegments(t *testing.T) {
	c := newClock()
	s := mustOpen(t, testOptions(t, t.TempDir(), c))
	st := mustCreate(t, s, "info", 1)
	sh := st.Shards()[0]
	if segs := sh.Segments(); len(segs) != 0 {
		t.Fatalf("new shard (dormant: none listed until loaded): %+v", segs)
	}
	s.prep.wait()
	if err := sh.ensure(); err != nil {
		t.Fatal(err)
	}
	if segs := sh.Segments(); len(segs) != 1 || segs[0].Base != 0 || segs[0].Next != 0 || segs[0].Sealed {
		t.Fatalf("new shard once loaded (the empty segment the preparer made): %+v", segs)
	}
	// 64 KiB segments: 40 records of 4 KiB roll at least twice.
	for i := 0; i < 40; i++ {
		put(t, st, "k", payload(i, 4<<10))
		c.Advance(1e6)
	}
	sh.waitSealed() // rolled segments are sealed in the background
	segs := sh.Segments()
	if len(segs) < 3 {
		t.Fatalf("want at least 3 segments after rolls, got %+v", segs)
	}
	var next uint64
	for i, si := range segs {
		if si.Base < next || si.Next < si.Base || si.Bytes <= 0 {
			t.Fatalf("segment %d: %+v (want base %d or above)", i, si, next)
		}
		if si.Name != segment.Name(si.Base) {
			t.Fatalf("segment %d named %q", i, si.Name)
		}
		last := i == len(segs)-1
		if si.Sealed == last {
			t.Fatalf("segment %d sealed=%v; only the active last one is unsealed", i, si.Sealed)
		}
		if si.Next > si.Base && si.Last.Before(si.First) {
			t.Fatalf("segment %d: last %v before first %v", i, si.Last, si.First)
		}
		next = si.Next
	}
	if next != sh.Tail() {
		t.Fatalf("segments end at %d, tail %d", next, sh.Tail())
	}
}
