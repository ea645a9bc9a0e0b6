package shard

import (
	"fmt"
	"testing"
	"time"
)

// TestReloadSyncsByPolicy reopens a store a crash left (no Close: what the
// killed process appended is in the page cache, not known to be on disk)
// and loads its shard by a first append. Recovery does not sync; the fsync
// policy decides when the recovered records reach the disk: under always
// before the load returns (readers see only durable records), under
// interval in the next interval pass (the shard counts as dirty until
// then), under never not at all. Under never and interval the first append
// waits for no flush.
func TestReloadSyncsByPolicy(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
		t.Run(string(policy), func(t *testing.T) {
			o := testOptions(t, t.TempDir(), nil)
			o.Fsync = FsyncNever // the crashed writer leaves everything unsynced
			s := mustOpen(t, o)
			st := mustCreate(t, s, "reload", 1)
			for i := range 20 {
				put(t, st, fmt.Sprintf("k%d", i), payload(i, 300))
			}
			st.Shards()[0].waitSealed() // a killed process seals nothing more

			counter := &opCounter{op: "sync"} // msyncs of appended frames
			o.Fsync = policy
			o.FsyncInterval = time.Hour // the test runs the pass itself
			o.Segment.Faults = counter
			s2 := mustOpen(t, o)
			defer s2.Close()
			st2, err := s2.Stream("reload")
			if err != nil {
				t.Fatal(err)
			}
			sh := st2.Shards()[0]
			put(t, st2, "after", payload(99, 300)) // loads the shard
			syncs := counter.n.Load()
			dirty := sh.durable.Load() < sh.next.Load()
			switch policy {
			case FsyncAlways:
				// One sync at load, one for the append's group commit.
				if syncs != 2 || dirty {
					t.Fatalf("%d syncs, dirty %v after the first append; want 2 and clean", syncs, dirty)
				}
			case FsyncInterval:
				if syncs != 0 || !dirty || sh.durable.Load() > sh.active.Base() {
					t.Fatalf("%d syncs after the first append, durable %d of %d; want none, and dirty from the base %d",
						syncs, sh.durable.Load(), sh.next.Load(), sh.active.Base())
				}
				s2.syncAll()
				if n, dirty := counter.n.Load(), sh.durable.Load() < sh.next.Load(); n != 1 || dirty {
					t.Fatalf("after the interval pass: %d syncs, dirty %v; want 1 and clean", n, dirty)
				}
			case FsyncNever:
				if syncs != 0 {
					t.Fatalf("%d syncs under fsync never", syncs)
				}
			}
			if got, _ := readAll(t, sh, 0); len(got) != 21 {
				t.Fatalf("read %d records, want 21", len(got))
			}
		})
	}
}
