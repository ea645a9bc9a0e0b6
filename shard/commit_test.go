package shard

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommitAcknowledgesOnlyDurable has 16 producers put batches that
// span 16 shards under FsyncAlways while readers poll every shard: every
// acknowledged record must lie below its shard's durable mark when Put
// returns, no reader may get a record at or above the mark it read before,
// and after a restart every acknowledged record is there.
func TestGroupCommitAcknowledgesOnlyDurable(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	o.Fsync = FsyncAlways
	s := mustOpen(t, o)
	const shards, producers, puts, batch = 16, 16, 20, 8
	st := mustCreate(t, s, "group", shards)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, sh := range st.Shards() {
		readers.Add(1)
		go func(sh *Shard) {
			defer readers.Done()
			var res ReadResult
			defer res.Release()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := sh.Read(0, 1000, 1<<20, &res); err != nil {
					t.Error(err)
					return
				}
				// Read takes the mark before it reads: the mark only grows.
				if durable := sh.durable.Load(); res.Next > durable {
					t.Errorf("shard %s: read up to %d, durable mark %d", sh.ID(), res.Next, durable)
					return
				}
				res.Release()
			}
		}(sh)
	}
	var acked sync.Map // data -> PutResult
	var producersWG sync.WaitGroup
	for p := range producers {
		producersWG.Add(1)
		go func(p int) {
			defer producersWG.Done()
			for i := range puts {
				recs := make([]Record, batch)
				keys := make([]HashKey, batch)
				out := make([]PutResult, batch)
				for j := range recs {
					pk := fmt.Sprintf("p%d-%d-%d", p, i, j)
					recs[j] = Record{PartitionKey: []byte(pk), Data: []byte(pk)}
					keys[j] = HashPartitionKey([]byte(pk))
				}
				st.Put(recs, keys, out)
				for j, r := range out {
					if r.Err != nil {
						t.Error(r.Err)
						return
					}
					if d := r.Shard.durable.Load(); r.Seq >= d {
						t.Errorf("record %d of shard %s acknowledged above the durable mark %d", r.Seq, r.Shard.ID(), d)
						return
					}
					acked.Store(string(recs[j].Data), r)
				}
			}
		}(p)
	}
	producersWG.Wait()
	close(stop)
	readers.Wait()
	if t.Failed() {
		return
	}
	s.Close()
	s2 := mustOpen(t, testOptions(t, dir, nil))
	st2, err := s2.Stream("group")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, sh := range st2.Shards() {
		got, _ := readAll(t, sh, 0)
		for _, d := range got {
			found[string(d)] = true
		}
	}
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		if !found[k.(string)] {
			t.Errorf("acknowledged record %q missing after reopen", k)
		}
		return true
	})
	if n != producers*puts*batch {
		t.Fatalf("%d records acknowledged, want %d", n, producers*puts*batch)
	}
}

// countingSync counts segment syncs and can hold the next one until
// released.
type countingSync struct {
	syncs   atomic.Int64
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (c *countingSync) Fault(op string) error {
	if op != "sync" {
		return nil
	}
	c.syncs.Add(1)
	if c.armed.CompareAndSwap(true, false) {
		c.entered <- struct{}{}
		<-c.release
	}
	return nil
}

// TestGroupCommitRoundServesEveryShard holds one shard's sync while puts to
// every shard queue behind it: the next round syncs each shard once,
// however many puts wrote to it.
func TestGroupCommitRoundServesEveryShard(t *testing.T) {
	o := testOptions(t, t.TempDir(), nil)
	o.Fsync = FsyncAlways
	c := &countingSync{entered: make(chan struct{}), release: make(chan struct{})}
	o.Segment.Faults = c
	s := mustOpen(t, o)
	const shards, puts = 4, 12
	st := mustCreate(t, s, "rounds", shards)
	all := st.Shards()
	// Loaded first: under FsyncAlways a load syncs the segment the
	// preparer made, and the sync held must be a commit round's.
	s.prep.wait()
	for _, sh := range all {
		sh.Tail()
	}
	c.armed.Store(true)
	first := make(chan error)
	go func() {
		_, err := all[0].Append([]Record{{PartitionKey: []byte("k"), Data: []byte("first")}})
		first <- err
	}()
	<-c.entered // a round is syncing shard 0
	before := c.syncs.Load()
	done := make(chan error, puts)
	for i := range puts {
		go func(sh *Shard, i int) {
			_, err := sh.Append([]Record{{PartitionKey: []byte("k"), Data: payload(i, 10)}})
			done <- err
		}(all[i%shards], i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var total uint64
		for _, sh := range all {
			total += sh.Tail()
		}
		if total == 1+puts {
			break // every put has appended and queues for the next round
		}
		if time.Now().After(deadline) {
			t.Fatal("puts did not append while a sync was held")
		}
		time.Sleep(time.Millisecond)
	}
	close(c.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range puts {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a put never completed")
		}
	}
	if got := c.syncs.Load() - before; got != shards {
		t.Fatalf("%d puts to %d shards took %d syncs after the held one, want one per shard", puts, shards, got)
	}
	for _, sh := range all {
		if d, tail := sh.durable.Load(), sh.Tail(); d != tail {
			t.Fatalf("shard %s: durable %d, tail %d", sh.ID(), d, tail)
		}
	}
}
