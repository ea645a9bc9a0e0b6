package main

import (
	"bytes"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/segment"
)

// blackBoxStore starts shardlog on a fresh data directory, creates a
// one-shard stream "s", puts n records "rec-<i>|..." of about 1 KiB one
// request of 100 at a time, and kills the daemon with SIGKILL. It returns
// the data directory, the shard's directory and the acknowledged records
// in order.
func blackBoxStore(t *testing.T, cfg string, n int) (dataDir, shardDir string, acked []ackedRecord) {
	t.Helper()
	dataDir = filepath.Join(t.TempDir(), "data")
	d := startDaemonConfig(t, dataDir, cfg)
	c := newAPIClient(d.Endpoint)
	c.createStream(t, "s", 1)
	for i := 0; i < n; i += 100 {
		var entries []putEntry
		for j := i; j < min(n, i+100); j++ {
			data := append([]byte(fmt.Sprintf("rec-%d|", j)), bytes.Repeat([]byte{byte(j)}, 1000)...)
			entries = append(entries, putEntry{Data: data, PartitionKey: fmt.Sprintf("pk-%d", j)})
		}
		var out putRecordsOut
		c.mustCall(t, "PutRecords", map[string]any{"StreamName": "s", "Records": entries}, &out)
		for k, r := range out.Records {
			if r.ErrorCode != "" {
				t.Fatalf("PutRecords: %+v", r)
			}
			acked = append(acked, ackedRecord{data: entries[k].Data, shard: r.ShardId, seq: r.SequenceNumber})
		}
	}
	d.kill(t)
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "streams", "s_s", "shardId-*"))
	if len(dirs) != 1 {
		t.Fatalf("shard directories: %v", dirs)
	}
	return dataDir, dirs[0], acked
}

// position is the record's position in its shard: the low 64 bits of its
// sequence number.
func position(t *testing.T, seq string) uint64 {
	t.Helper()
	n, ok := new(big.Int).SetString(seq, 10)
	if !ok {
		t.Fatalf("sequence number %q", seq)
	}
	return new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0))).Uint64()
}

// checkServes restarts the daemon on dataDir and checks that it serves
// want (in order, byte for byte, at their sequence numbers) as the first
// records of the shard, then takes a new record whose sequence number is
// above every one in above.
func checkServes(t *testing.T, dataDir, cfg string, want, above []ackedRecord) {
	t.Helper()
	d := startDaemonConfig(t, dataDir, cfg)
	c := newAPIClient(d.Endpoint)
	ids := c.shardIDs(t, "s")
	got := c.readAll(t, "s", ids[0])
	if len(got) < len(want) {
		t.Fatalf("restart serves %d records, want at least the %d acknowledged before the damage", len(got), len(want))
	}
	for i, a := range want {
		if got[i].SequenceNumber != a.seq || !bytes.Equal(got[i].Data, a.data) {
			t.Fatalf("record %d: got %s %.12q, acknowledged %s %.12q", i, got[i].SequenceNumber, got[i].Data, a.seq, a.data)
		}
	}
	var out putRecordsOut
	c.mustCall(t, "PutRecords", map[string]any{"StreamName": "s", "Records": []putEntry{{Data: []byte("after"), PartitionKey: "after"}}}, &out)
	seq, _ := new(big.Int).SetString(out.Records[0].SequenceNumber, 10)
	for _, a := range above {
		prev, _ := new(big.Int).SetString(a.seq, 10)
		if seq == nil || seq.Cmp(prev) <= 0 {
			t.Fatalf("new record got sequence number %s, not above %s handed out before", out.Records[0].SequenceNumber, a.seq)
		}
	}
	d.stop(t)
}

// TestRestartAfterUnfinishedRoll leaves what a crash in the middle of a roll
// left under a segment's name in older builds (a 0-byte or short next
// segment file) after SIGKILL: a restart serves every acknowledged record
// and takes new ones, and fsck reports the file and repairs it.
func TestRestartAfterUnfinishedRoll(t *testing.T) {
	const cfg = "storage:\n  fsync: never\n  segment_bytes: 2097152\n"
	for _, c := range []struct {
		name    string
		content []byte
		fsck    bool
	}{
		{"empty, restart", nil, false},
		{"short, restart", []byte("SHLGSEG\x00\x01\x00"), false},
		{"empty, fsck", nil, true},
		{"short, fsck", []byte("SHLGSEG\x00\x01\x00"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dataDir, shardDir, acked := blackBoxStore(t, cfg, 300)
			next := position(t, acked[len(acked)-1].seq) + 1
			path := filepath.Join(shardDir, segment.Name(next))
			if err := os.WriteFile(path, c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			if c.fsck {
				code, out, _ := runCmd("fsck", dataDir)
				if code != fsckDamaged || !strings.Contains(out, "unfinished roll") {
					t.Fatalf("fsck: exit %d, want %d naming the unfinished roll\n%s", code, fsckDamaged, out)
				}
				if code, out, _ = runCmd("fsck", "--repair", dataDir); code != fsckRepaired {
					t.Fatalf("fsck --repair: exit %d, want %d\n%s", code, fsckRepaired, out)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("fsck --repair left %s: %v", path, err)
				}
			}
			checkServes(t, dataDir, cfg, acked, acked)
			if code, out, _ := runCmd("fsck", dataDir); code != fsckClean {
				t.Fatalf("fsck after the restart: exit %d\n%s", code, out)
			}
		})
	}
}

// TestSequenceNumbersRiseAfterPowerLoss models power loss after SIGKILL:
// the active segment loses everything from the middle of record 150 on,
// cut off (a shorter file) or zeroed (pages that never reached the disk).
// A restart serves the records before the damage, and a new record gets a
// sequence number above every one handed out before, including those of
// the lost records that a consumer may already have seen.
func TestSequenceNumbersRiseAfterPowerLoss(t *testing.T) {
	const cfg = "storage:\n  fsync: never\n  segment_bytes: 2097152\n"
	for _, mode := range []string{"cut", "zeroed"} {
		t.Run(mode, func(t *testing.T) {
			dataDir, shardDir, acked := blackBoxStore(t, cfg, 300)
			logs, _ := filepath.Glob(filepath.Join(shardDir, "*.log"))
			path := logs[len(logs)-1]
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			off := bytes.Index(b, []byte("rec-150|"))
			if off < 0 {
				t.Fatal("rec-150 not found in the active segment")
			}
			switch mode {
			case "cut":
				err = os.Truncate(path, int64(off))
			case "zeroed":
				err = os.WriteFile(path, append(b[:off:off], make([]byte, len(b)-off)...), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkServes(t, dataDir, cfg, acked[:150], acked)
		})
	}
}
