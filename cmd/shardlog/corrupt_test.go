package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/shard"
)

// TestDamagedDataDir stops a real shardlog (SIGKILL, or a clean stop),
// damages a segment file of its data directory and starts it again. In every
// case the daemon starts, never returns a damaged record's bytes, and
// accepts new records with higher sequence numbers.
//
// Bit rot with valid frames after it (in a sealed segment or in the active
// one; in a payload, a length word or a seq) is corruption, not a torn tail:
// every other record reads back byte for byte and in order; a GetRecords
// that reaches the damaged record answers InternalFailure (500) whose
// message names the stream, the shard and the record's sequence number, and
// never a file path; the reader goes on with an AFTER_SEQUENCE_NUMBER
// iterator at that number; /metrics counts the failed read; fsck reports it.
// Only bad bytes with nothing valid after them (a torn tail) are cut, and
// the cut bytes are kept in <segment>.log.broken.
func TestDamagedDataDir(t *testing.T) {
	const (
		stream  = "rot"
		records = 30      // a sealed segment of 2 MiB and an active one
		size    = 100_000 // bytes of data per record
	)
	cfg := "storage:\n  fsync: never\n  segment_bytes: 2097152\n"
	data := func(i int) []byte {
		return append([]byte(fmt.Sprintf("REC-%04d|", i)), bytes.Repeat([]byte{byte('a' + i%26)}, size)...)
	}

	// setup writes the records and stops the daemon; it returns the data
	// directory, the segment files oldest first and each record's sequence
	// number.
	setup := func(t *testing.T, clean bool) (string, []string, []string) {
		dir := filepath.Join(t.TempDir(), "data")
		d := startDaemonConfig(t, dir, cfg)
		c := newAPIClient(d.Endpoint)
		c.createStream(t, stream, 1)
		var seqs []string
		for i := 0; i < records; i += 10 {
			entries := make([]putEntry, 10)
			for j := range entries {
				entries[j] = putEntry{Data: data(i + j), PartitionKey: "k"}
			}
			var out putRecordsOut
			c.mustCall(t, "PutRecords", map[string]any{"StreamName": stream, "Records": entries}, &out)
			for _, r := range out.Records {
				seqs = append(seqs, r.SequenceNumber)
			}
		}
		if clean {
			d.stop(t)
		} else {
			d.kill(t) // the records are in the page cache: acknowledged and kept
		}
		segs, _ := filepath.Glob(filepath.Join(dir, "streams", "s_"+stream, "shardId-000000000000", "*.log"))
		sort.Strings(segs)
		if len(segs) < 2 {
			t.Fatalf("want at least 2 segments, have %v", segs)
		}
		return dir, segs, seqs
	}
	// damage flips the byte at off past record i's marker in the segment
	// holding it.
	damage := func(t *testing.T, segs []string, i, off int, with func([]byte, int)) {
		t.Helper()
		marker := []byte(fmt.Sprintf("REC-%04d|", i))
		for _, path := range segs {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if at := bytes.Index(b, marker); at >= 0 {
				with(b, at+off)
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("record %d not found on disk", i)
	}
	flip := func(b []byte, at int) { b[at] ^= 0x20 }

	// check restarts the daemon and reads the shard from the start in pages
	// of 7 records. It wants records 0..keep-1 but those in bad intact, an
	// InternalFailure naming each bad record, and reads on past it with
	// AFTER_SEQUENCE_NUMBER as a consumer learns it from the message. Then
	// it appends a record, stops the daemon and runs fsck.
	check := func(t *testing.T, dir string, seqs []string, keep int, bad ...int) {
		t.Helper()
		d := startDaemonConfig(t, dir, cfg)
		c := newAPIClient(d.Endpoint)
		it := c.iterator(t, stream, "shardId-000000000000", "TRIM_HORIZON", "")
		var got []getRecord
		var failed []int
		for reads := 0; it != "" && reads < 100; reads++ {
			var out getRecordsOut
			err := c.call("GetRecords", map[string]any{"ShardIterator": it, "Limit": 7}, &out)
			if err != nil {
				he, ok := err.(*httpError)
				if !ok || he.Status != 500 || he.Type != "InternalFailure" || len(failed) >= len(bad) {
					t.Fatalf("after %d records: %v (want InternalFailure only at records %v)", len(got), err, bad)
				}
				i := bad[len(failed)]
				for _, want := range []string{stream, "shardId-000000000000", "sequence number " + seqs[i]} {
					if !strings.Contains(he.Message, want) {
						t.Fatalf("InternalFailure at record %d: %q does not name %q", i, he.Message, want)
					}
				}
				if strings.Contains(he.Message, "/") || strings.Contains(he.Message, ".log") {
					t.Fatalf("InternalFailure shows a path: %q", he.Message)
				}
				t.Logf("GetRecords at the damaged record %d: HTTP %d %s: %s", i, he.Status, he.Type, he.Message)
				failed = append(failed, i)
				after := he.Message[strings.LastIndex(he.Message, " ")+1:]
				it = c.iterator(t, stream, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", strings.TrimSuffix(after, "."))
				continue
			}
			got = append(got, out.Records...)
			if len(out.Records) == 0 && out.MillisBehindLatest == 0 {
				break
			}
			it = out.NextShardIterator
		}
		if fmt.Sprint(failed) != fmt.Sprint(bad) {
			t.Fatalf("InternalFailure at records %v, want %v", failed, bad)
		}
		var want []int
		for i := 0; i < keep; i++ {
			if !slices.Contains(bad, i) {
				want = append(want, i)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("read %d records, want %d (all %d but the damaged %v)", len(got), len(want), keep, bad)
		}
		for k, r := range got {
			if i := want[k]; r.SequenceNumber != seqs[i] || !bytes.Equal(r.Data, data(i)) {
				t.Fatalf("record %d: seq %s, %d bytes: not what was written", i, r.SequenceNumber, len(r.Data))
			}
		}
		if m := scrapeBinary(t, d.Started.Listen); m[`shardlog_corrupt_record_reads_total{stream="`+stream+`"}`] != float64(len(bad)) {
			t.Errorf("/metrics: shardlog_corrupt_record_reads_total = %v, want %d", m[`shardlog_corrupt_record_reads_total{stream="`+stream+`"}`], len(bad))
		}
		var put struct{ SequenceNumber string }
		c.mustCall(t, "PutRecord", map[string]any{"StreamName": stream, "Data": []byte("after"), "PartitionKey": "k"}, &put)
		if seqNum(t, put.SequenceNumber).Cmp(seqNum(t, seqs[len(seqs)-1])) <= 0 {
			t.Fatalf("new record %s not after %s", put.SequenceNumber, seqs[len(seqs)-1])
		}
		t.Logf("kept %d of %d records, %d corrupt; new record accepted", len(got), records, len(bad))
		d.stop(t)
		if len(bad) > 0 {
			code, out, errOut := runCmd("fsck", "--json", dir)
			probs := fsckLines(t, out)
			var at []int
			for _, p := range probs {
				if strings.HasPrefix(p.Problem, "corrupt records") {
					at = append(at, int(p.Seq))
				}
			}
			var wantAt []int // positions, which rolls make sparse
			for _, i := range bad {
				_, pos, err := shard.ParseSequenceNumber(seqs[i])
				if err != nil {
					t.Fatal(err)
				}
				wantAt = append(wantAt, int(pos))
			}
			if code != fsckDamaged || fmt.Sprint(at) != fmt.Sprint(wantAt) {
				t.Fatalf("fsck: exit %d, corrupt records at positions %v, want %v (records %v)\n%s%s", code, at, wantAt, bad, out, errOut)
			}
		}
	}

	for _, stop := range []string{"SIGKILL", "clean stop"} {
		clean := stop == "clean stop"
		t.Run(stop, func(t *testing.T) {
			t.Run("garbage after the last frame", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				// A frame half written past the end of the data: non-zero bytes
				// after the last record.
				damage(t, segs, records-1, 9+size, func(b []byte, at int) { copy(b[at:], "\x40\x00\x00\x00torn frame") })
				check(t, dir, seqs, records)
				if _, err := os.Stat(segs[len(segs)-1] + ".broken"); err != nil {
					t.Errorf("no .broken copy of the cut tail: %v", err)
				}
			})
			t.Run("torn last record", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				damage(t, segs, records-1, size/2, func(b []byte, at int) { clear(b[at : at+4096]) })
				check(t, dir, seqs, records-1)
			})
			t.Run("bit flip in a sealed segment's payload", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				damage(t, segs, 10, 5000, flip)
				check(t, dir, seqs, records, 10)
			})
			t.Run("bit flip in a sealed segment's frame length", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				damage(t, segs, 5, -33+1, flip) // the size word: frame header (32) and partition key "k" (1) precede the data
				check(t, dir, seqs, records, 5)
			})
			t.Run("bit flip in a sealed segment's seq and payload", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				damage(t, segs, 3, -20, flip) // the seq field of the frame header
				damage(t, segs, 12, 70000, flip)
				check(t, dir, seqs, records, 3, 12)
			})
			t.Run("bit flip in the active segment", func(t *testing.T) {
				dir, segs, seqs := setup(t, clean)
				damage(t, segs, records-5, 5000, flip)
				check(t, dir, seqs, records, records-5)
			})
		})
	}
}
