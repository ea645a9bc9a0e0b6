package shard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// opCounter counts the segment operations named op.
type opCounter struct {
	op string
	n  atomic.Int64
}

func (c *opCounter) Fault(op string) error {
	if op == c.op {
		c.n.Add(1)
	}
	return nil
}

// putOneTo appends one record to sh (a shard of st) and returns its
// position.
func putOneTo(t *testing.T, st *Stream, sh *Shard) uint64 {
	t.Helper()
	recs := []Record{{PartitionKey: []byte("k"), Data: []byte("resume")}}
	keys := []HashKey{sh.HashRange().Start}
	out := make([]PutResult, 1)
	st.Put(recs, keys, out)
	if out[0].Err != nil {
		t.Fatal(out[0].Err)
	}
	if out[0].Shard != sh {
		t.Fatalf("put went to %s, want %s", out[0].Shard.ID(), sh.ID())
	}
	return out[0].Seq
}

// TestResumeAfterCleanClose: after a clean Close, the first append to a
// shard that was loaded at the close, and to one that had gone dormant
// before it, gets the next position exactly and flushes no reservation;
// Open has removed the resume file before serving.
func TestResumeAfterCleanClose(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "resume", 2)
	shards := st.Shards()
	last := make([]uint64, len(shards))
	for range 10 {
		for j, sh := range shards {
			last[j] = putOneTo(t, st, sh)
		}
	}
	if !unloadNow(st, shards[1]) {
		t.Fatal("unload refused an idle shard")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	reserves := &opCounter{op: "reserve"}
	o.Segment.Faults = reserves
	s2 := mustOpen(t, o)
	defer s2.Close()
	if _, err := os.Stat(filepath.Join(o.Dir, resumeFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("resume file after Open: %v, want it removed", err)
	}
	st2, _ := s2.Stream("resume")
	for j, sh := range st2.Shards() {
		if got := putOneTo(t, st2, sh); got != last[j]+1 {
			t.Fatalf("shard %d: first append after the restart got position %d, want %d", j, got, last[j]+1)
		}
	}
	if n := reserves.n.Load(); n != 0 {
		t.Fatalf("%d reservations flushed by the first appends, want none", n)
	}
}

// TestResumePointsNeverReusePositions: a resume point is never trusted
// past what it describes. A crash after Open used the points leaves no
// file, and a resume file older than the appends since (restored by
// hand, or left by a build that ignores it) no longer matches the
// segment: either way the shard resumes above every position handed out.
// A file that cannot be parsed is ignored.
func TestResumePointsNeverReusePositions(t *testing.T) {
	for _, tc := range []string{"crash after resume", "stale file", "corrupt file"} {
		t.Run(tc, func(t *testing.T) {
			o := testOptions(t, t.TempDir(), nil)
			s := mustOpen(t, o)
			st := mustCreate(t, s, "resume", 1)
			sh := st.Shards()[0]
			for range 5 {
				putOneTo(t, st, sh)
			}
			from := sh.active.Size() // where the next store's appends begin
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(o.Dir, resumeFile)
			stale, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			s2 := mustOpen(t, o)
			st2, _ := s2.Stream("resume")
			sh2 := st2.Shards()[0]
			var handed uint64
			for range 5 {
				handed = putOneTo(t, st2, sh2) // below the reservation: nothing flushed
			}
			active := sh2.active
			switch tc {
			case "crash after resume":
				// No Close: dropped as a crash drops it. Then power loss
				// takes the unsynced appends (zeroed, as pages that never
				// reached the disk read back): had the resume file
				// survived Open, its point would match the segment again.
				sh2.waitSealed()
				f, err := os.OpenFile(active.Path(), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt(make([]byte, active.Size()-from), from); err != nil {
					t.Fatal(err)
				}
				f.Close()
			case "stale file":
				if err := s2.Close(); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, stale, 0o644); err != nil {
					t.Fatal(err)
				}
			case "corrupt file":
				if err := s2.Close(); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, stale[:len(stale)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s3 := mustOpen(t, o)
			defer s3.Close()
			st3, _ := s3.Stream("resume")
			if got := putOneTo(t, st3, st3.Shards()[0]); got <= handed {
				t.Fatalf("position %d after the restart, but %d was already handed out", got, handed)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("resume file after Open: %v, want it removed", err)
			}
		})
	}
}
