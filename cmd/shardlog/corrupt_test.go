package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestDamagedDataDir stops a real shardlog, damages a segment file of its
// data directory and starts it again. In every case the daemon starts, keeps
// every record before the damage, never returns a damaged record's bytes, and
// accepts new records with higher sequence numbers.
//
// The documented choice for bit rot: a GetRecords that reaches a record whose
// CRC fails returns the good records before it and stops there; the next
// GetRecords from that position answers InternalFailure (500) and the daemon
// logs the corrupt segment and offset. A reader skips the damage explicitly
// with AT_SEQUENCE_NUMBER of a later record. Damage in the active segment is
// different: recovery on start cuts the segment at the first bad frame (the
// cut bytes are kept in <segment>.log.broken), since a torn tail and a flipped
// bit look alike there, so the records after it are gone, and (a known
// limitation) their sequence numbers are given to the next records appended.
// kill -9 cannot cause such damage (acknowledged frames are whole in the page
// cache); power loss under fsync: never or interval, or a failing disk, can.
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
	setup := func(t *testing.T) (string, []string, []string) {
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
		d.kill(t) // the records are in the page cache: as good as a clean stop, and quicker
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
	// of 7 records. It wants records 0..keep-1 intact and, when errAt >= 0,
	// an InternalFailure at record errAt; then it reads on from resume and
	// appends a record.
	check := func(t *testing.T, dir string, seqs []string, keep, errAt, resume int) {
		t.Helper()
		d := startDaemonConfig(t, dir, cfg)
		c := newAPIClient(d.Endpoint)
		it := c.iterator(t, stream, "shardId-000000000000", "TRIM_HORIZON", "")
		var got []getRecord
		for it != "" {
			var out getRecordsOut
			err := c.call("GetRecords", map[string]any{"ShardIterator": it, "Limit": 7}, &out)
			if err != nil {
				he, ok := err.(*httpError)
				if !ok || he.Status != 500 || he.Type != "InternalFailure" || len(got) != errAt {
					t.Fatalf("after %d records: %v (want InternalFailure only at record %d)", len(got), err, errAt)
				}
				t.Logf("GetRecords at the damaged record %d: HTTP %d %s", len(got), he.Status, he.Type)
				break
			}
			got = append(got, out.Records...)
			if len(out.Records) == 0 {
				break
			}
			it = out.NextShardIterator
		}
		if errAt >= 0 && len(got) != errAt {
			t.Fatalf("read %d records without an error, want an error at record %d", len(got), errAt)
		}
		if len(got) < keep {
			t.Fatalf("read %d records, want at least the %d before the damage", len(got), keep)
		}
		for i, r := range got {
			if r.SequenceNumber != seqs[i] || !bytes.Equal(r.Data, data(i)) {
				t.Fatalf("record %d: seq %s, %d bytes: not what was written", i, r.SequenceNumber, len(r.Data))
			}
		}
		if resume >= 0 {
			var out getRecordsOut
			it := c.iterator(t, stream, "shardId-000000000000", "AT_SEQUENCE_NUMBER", seqs[resume])
			c.mustCall(t, "GetRecords", map[string]any{"ShardIterator": it, "Limit": 1}, &out)
			if len(out.Records) != 1 || !bytes.Equal(out.Records[0].Data, data(resume)) {
				t.Fatalf("record %d past the damage: %d records", resume, len(out.Records))
			}
		}
		var put struct{ SequenceNumber string }
		c.mustCall(t, "PutRecord", map[string]any{"StreamName": stream, "Data": []byte("after"), "PartitionKey": "k"}, &put)
		// After a cut of the active segment the positions of the cut records
		// are handed out again (see the test's doc); otherwise new records
		// follow every record written before the damage.
		last := seqs[len(seqs)-1]
		if errAt < 0 {
			last = seqs[len(got)-1]
		}
		if seqNum(t, put.SequenceNumber).Cmp(seqNum(t, last)) <= 0 {
			t.Fatalf("new record %s not after %s", put.SequenceNumber, last)
		}
		t.Logf("kept %d of %d records; new record accepted", len(got), records)
		d.kill(t)
	}

	t.Run("garbage after the last frame", func(t *testing.T) {
		dir, segs, seqs := setup(t)
		// A frame half written past the end of the data: non-zero bytes
		// after the last record.
		damage(t, segs, records-1, 9+size, func(b []byte, at int) { copy(b[at:], "\x40\x00\x00\x00torn frame") })
		check(t, dir, seqs, records, -1, -1)
		if _, err := os.Stat(segs[len(segs)-1] + ".broken"); err != nil {
			t.Errorf("no .broken copy of the cut tail: %v", err)
		}
	})
	t.Run("torn last record", func(t *testing.T) {
		dir, segs, seqs := setup(t)
		damage(t, segs, records-1, size/2, func(b []byte, at int) { clear(b[at : at+4096]) })
		check(t, dir, seqs, records-1, -1, -1)
	})
	t.Run("bit flip in a sealed segment", func(t *testing.T) {
		dir, segs, seqs := setup(t)
		damage(t, segs, 10, 5000, flip)
		check(t, dir, seqs, 10, 10, 11)
	})
	t.Run("bit flip in a sealed segment's header of a record", func(t *testing.T) {
		dir, segs, seqs := setup(t)
		damage(t, segs, 5, -20, flip) // inside the frame header, before the partition key
		check(t, dir, seqs, 5, 5, 6)
	})
	t.Run("bit flip in the active segment", func(t *testing.T) {
		dir, segs, seqs := setup(t)
		damage(t, segs, records-5, 5000, flip)
		check(t, dir, seqs, records-5, -1, -1)
	})
}
