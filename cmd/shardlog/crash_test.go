package main

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestCrashKeepsAcknowledged is the process crash test: concurrent producers
// write records carrying unique ids into a real shardlog, which is killed
// with SIGKILL at random moments and restarted on the same data directory.
// At the end every acknowledged record must be there exactly once, byte for
// byte, under the shard and sequence number it was acknowledged with, and
// records written after each restart must follow those written before it.
// It runs under fsync: never and fsync: always (both must lose nothing on
// kill -9: acknowledged data is in the mapping). SHARDLOG_LONG=1 kills 20
// times instead of 3.
func TestCrashKeepsAcknowledged(t *testing.T) {
	for _, fsync := range []string{"never", "always"} {
		t.Run("fsync="+fsync, func(t *testing.T) { crashTest(t, fsync) })
	}
}

// ackedRecord is what a producer remembers of an acknowledged record.
type ackedRecord struct {
	data  []byte
	shard string
	seq   string
	round int
}

func crashTest(t *testing.T, fsync string) {
	kills := 3
	if longRun() {
		kills = 20
	}
	const (
		stream    = "crash"
		producers = 8
	)
	cfg := fmt.Sprintf("storage:\n  fsync: %s\n  segment_bytes: 2097152\n", fsync)
	dir := t.TempDir() + "/data"

	var (
		mu       sync.Mutex
		acked    = make(map[string]ackedRecord) // id -> record
		sent     = make(map[string]bool)        // every id ever sent
		failed   int                            // entries answered with an ErrorCode
		requests int
	)
	produce := func(c *apiClient, round, p int, stop <-chan struct{}) {
		rng := rand.New(rand.NewPCG(uint64(round), uint64(p)))
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			k := 1 + rng.IntN(40)
			entries := make([]putEntry, k)
			ids := make([]string, k)
			for i := range entries {
				ids[i] = fmt.Sprintf("r%d-p%d-n%d-i%d", round, p, n, i)
				data := make([]byte, len(ids[i])+1+rng.IntN(3000))
				copy(data, ids[i]+"|")
				for j := len(ids[i]) + 1; j < len(data); j++ {
					data[j] = byte(rng.Uint32())
				}
				entries[i] = putEntry{Data: data, PartitionKey: fmt.Sprintf("pk-%d", rng.Uint32())}
			}
			mu.Lock()
			for _, id := range ids {
				sent[id] = true
			}
			mu.Unlock()
			var out putRecordsOut
			err := c.call("PutRecords", map[string]any{"StreamName": stream, "Records": entries}, &out)
			if err != nil {
				if _, ok := err.(*httpError); ok {
					t.Errorf("PutRecords answered %v", err)
				}
				return // the daemon is gone; nothing in flight counts as acknowledged
			}
			mu.Lock()
			requests++
			for i, r := range out.Records {
				if r.ErrorCode != "" {
					failed++
					continue
				}
				acked[ids[i]] = ackedRecord{data: entries[i].Data, shard: r.ShardId, seq: r.SequenceNumber, round: round}
			}
			mu.Unlock()
		}
	}

	var recoveries []time.Duration
	var restartWall []time.Duration
	for round := 0; round <= kills; round++ {
		began := time.Now()
		d := startDaemonConfig(t, dir, cfg)
		wall := time.Since(began)
		c := newAPIClient(d.Endpoint)
		if round == 0 {
			c.createStream(t, stream, 4)
		} else {
			recoveries = append(recoveries, time.Duration(d.Started.Took*float64(time.Millisecond)))
			restartWall = append(restartWall, wall)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() { defer wg.Done(); produce(c, round, p, stop) }()
		}
		time.Sleep(time.Duration(200+rand.IntN(500)) * time.Millisecond)
		if round < kills {
			d.kill(t)
			wg.Wait()
			close(stop)
			continue
		}
		close(stop)
		wg.Wait()

		// Verify through the running daemon.
		found := make(map[string]int)
		lost, dup, unacked, mismatched := 0, 0, 0, 0
		total := 0
		for _, shardID := range c.shardIDs(t, stream) {
			recs := c.readAll(t, stream, shardID)
			total += len(recs)
			var prev *big.Int
			lastRound := -1
			for _, r := range recs {
				seq, ok := new(big.Int).SetString(r.SequenceNumber, 10)
				if !ok || prev != nil && seq.Cmp(prev) <= 0 {
					t.Errorf("shard %s: sequence %s after %v", shardID, r.SequenceNumber, prev)
				}
				prev = seq
				id, _, ok := bytes.Cut(r.Data, []byte("|"))
				if !ok {
					t.Errorf("shard %s seq %s: record without an id", shardID, r.SequenceNumber)
					continue
				}
				found[string(id)]++
				if found[string(id)] > 1 {
					dup++
				}
				a, ok := acked[string(id)]
				switch {
				case !ok && !sent[string(id)]:
					t.Errorf("shard %s seq %s: record %q was never sent", shardID, r.SequenceNumber, id)
				case !ok:
					unacked++ // written, but the answer was lost with the process
				case !bytes.Equal(a.data, r.Data) || a.shard != shardID || a.seq != r.SequenceNumber:
					mismatched++
					t.Errorf("record %s: read %d bytes at %s/%s, acknowledged %d bytes at %s/%s",
						id, len(r.Data), shardID, r.SequenceNumber, len(a.data), a.shard, a.seq)
				default:
					if a.round < lastRound {
						t.Errorf("shard %s: record of round %d after one of round %d", shardID, a.round, lastRound)
					}
					lastRound = a.round
				}
			}
		}
		for id := range acked {
			if found[id] == 0 {
				lost++
				if lost <= 5 {
					t.Errorf("acknowledged record %s lost", id)
				}
			}
		}
		t.Logf("fsync=%s: %d kills, %d PutRecords answered, %d records acknowledged, %d read back (%d unacknowledged but written), lost %d, duplicated %d, mismatched %d, entries failed %d",
			fsync, kills, requests, len(acked), total, unacked, lost, dup, mismatched, failed)
		t.Logf("fsync=%s: recovery (open data dir) per restart %v; process start to serving %v", fsync, recoveries, restartWall)
		if lost+dup+mismatched > 0 {
			t.Fatalf("lost %d, duplicated %d, mismatched %d", lost, dup, mismatched)
		}
		if len(acked) == 0 {
			t.Fatal("no record was acknowledged")
		}
	}
}
