package shard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/segment"
)

// TestReadPastDamage flips bytes in sealed segments (a payload, a length
// word, the last frame of a segment) and in the active one, then reopens the
// store. Every record but the damaged ones reads back in order; a read that
// reaches damage fails with a *CorruptError naming exactly the damaged
// positions, and a reader that goes on from Last+1 reads everything after.
// New records get higher positions.
func TestReadPastDamage(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir, nil)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "rot", 1)
	const n = 300
	var seqs []uint64 // of record i
	index := map[uint64]int{}
	for i := 0; i < n; i += 10 {
		batch := make([][]byte, 10)
		for j := range batch {
			batch[j] = payload(i+j, 1000)
		}
		for _, r := range put(t, st, "pk", batch...) {
			index[r.Seq] = len(seqs)
			seqs = append(seqs, r.Seq)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	shardDir, _ := filepath.Glob(filepath.Join(dir, "streams", "*", "shardId-*"))
	logs, _ := filepath.Glob(filepath.Join(shardDir[0], "*.log"))
	sort.Strings(logs)
	if len(logs) < 4 {
		t.Fatalf("want several segments, have %d", len(logs))
	}
	base2, _ := strconv.ParseUint(strings.TrimSuffix(filepath.Base(logs[2]), ".log"), 10, 64)
	// flip flips the byte at off from record i's data in whichever file
	// holds it (off < 0: inside its frame header).
	flip := func(i, off int) {
		t.Helper()
		marker := append([]byte(fmt.Sprintf("record-%d", i)), byte(i))
		for _, path := range logs {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if at := bytes.Index(b, marker); at >= 0 {
				b[at+off] ^= 0x04
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("record %d not on disk", i)
	}
	last1 := slices.Index(seqs, base2) - 1 // the last record of the second segment
	bad := map[int]bool{20: true, 80: true, last1: true, n - 10: true}
	flip(20, 100)     // a payload
	flip(80, -32-2+1) // the size word (the partition key "pk" precedes the data)
	flip(last1, 500)  // the last frame of a sealed segment: no valid frame after it in its file
	flip(n-10, 300)   // in the active segment, valid frames after it
	s2 := mustOpen(t, o)
	st2, err := s2.Stream("rot")
	if err != nil {
		t.Fatal(err)
	}
	sh := st2.Shards()[0]
	var got []uint64
	var errs [][2]uint64
	var res ReadResult
	for pos, reads := uint64(0), 0; reads < 1000; reads++ {
		err := sh.Read(pos, 7, 1<<20, &res)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Shard != sh.ID() {
				t.Fatalf("Read(%d): %v, want a *CorruptError", pos, err)
			}
			var se *segment.CorruptError
			if !errors.As(err, &se) {
				t.Fatalf("Read(%d): %v does not wrap the segment's error", pos, err)
			}
			errs = append(errs, [2]uint64{ce.First, ce.Last})
			pos = ce.Last + 1
			continue
		}
		for _, r := range res.Records {
			if i, ok := index[r.Seq]; !ok || !bytes.Equal(r.Data, payload(i, 1000)) {
				t.Fatalf("seq %d: not what was written", r.Seq)
			}
			got = append(got, r.Seq)
		}
		k := len(res.Records)
		pos = res.Next
		res.Release()
		if k == 0 {
			break
		}
	}
	var want []uint64
	var wantErrs [][2]uint64
	for i := 0; i < n; i++ {
		switch {
		case i == last1: // the damage holds every position up to the next segment
			wantErrs = append(wantErrs, [2]uint64{seqs[i], base2 - 1})
		case bad[i]:
			wantErrs = append(wantErrs, [2]uint64{seqs[i], seqs[i]})
		default:
			want = append(want, seqs[i])
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read %d records %v\nwant %d", len(got), got, len(want))
	}
	if fmt.Sprint(errs) != fmt.Sprint(wantErrs) {
		t.Fatalf("errors at %v, want %v", errs, wantErrs)
	}
	res2 := put(t, st2, "pk", []byte("after"))
	if res2[0].Seq <= seqs[n-1] {
		t.Fatalf("new record at %d, want > %d", res2[0].Seq, seqs[n-1])
	}
	t.Logf("read %d of %d records, %d errors at %v; new record at %d", len(got), n, len(errs), errs, res2[0].Seq)
}
