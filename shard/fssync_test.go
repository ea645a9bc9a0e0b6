package shard

import (
	"errors"
	"sync"
	"testing"
)

// opCount counts the fault injector's steps by name, and fails the steps
// named fail.
type opCount struct {
	mu   sync.Mutex
	n    map[string]int
	fail string
}

func (c *opCount) Fault(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[op]++
	if op == c.fail {
		return errors.New("injected " + op + " failure")
	}
	return nil
}

func (c *opCount) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// TestCommitRoundSyncsTheFilesystemOnce: under FsyncAlways a put that
// wrote to eight shards is acknowledged after one syncfs of the store's
// filesystem, with every shard durable; when that syncfs fails, the round
// syncs each shard's segment on its own instead, and the put is still
// acknowledged with no shard failed.
func TestCommitRoundSyncsTheFilesystemOnce(t *testing.T) {
	const shards = 8
	ops := &opCount{n: map[string]int{}}
	o := testOptions(t, t.TempDir(), nil)
	o.Fsync = FsyncAlways
	o.Segment.Faults = ops
	s := mustOpen(t, o)
	if s.commit.fs == nil {
		t.Skip("this kernel's syncfs does not report writeback errors (before Linux 5.8): rounds sync each file")
	}
	st := mustCreate(t, s, "wide", shards)
	putAll := func() {
		t.Helper()
		recs := make([]Record, shards)
		keys := make([]HashKey, shards)
		for i, sh := range st.Shards() {
			recs[i] = Record{PartitionKey: []byte("k"), Data: []byte("x")}
			keys[i] = sh.HashRange().Start
		}
		out := make([]PutResult, shards)
		st.Put(recs, keys, out)
		for _, r := range out {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		for _, sh := range st.Shards() {
			if sh.durable.Load() < sh.next.Load() || sh.sticky.Load() != nil {
				t.Fatalf("shard %s: durable to %d of %d, sticky %v", sh.ID(), sh.durable.Load(), sh.next.Load(), sh.sticky.Load())
			}
		}
	}
	putAll() // creates the segments
	ops.take()
	putAll()
	if n := ops.take(); n["syncfs"] != 1 || n["sync"] != shards {
		t.Fatalf("steps of a round over %d shards: %v, want one syncfs and a sync point each", shards, n)
	}

	ops.mu.Lock()
	ops.fail = "syncfs"
	ops.mu.Unlock()
	putAll()
	if n := ops.take(); n["syncfs"] != 1 || n["sync"] != 2*shards {
		t.Fatalf("steps of a round whose syncfs failed: %v, want a sync point and a sync of its own for each shard", n)
	}
}
