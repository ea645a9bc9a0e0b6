package segment

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// checkDamaged reads s from seq 0 in pages of 7 records, as a consumer
// does. Every read that reaches a bad region must fail with a
// *CorruptError naming exactly the seqs of bad (in order) and return no
// bad bytes; the reader then resumes after the last of them, as
// AFTER_SEQUENCE_NUMBER does. It wants exactly the records of want, byte for
// byte and in order, and NextSeq one past the last of them. A read past
// NextSeq finds nothing unless the segment has an unreadable tail.
func checkDamaged(t testing.TB, s *Segment, want []Record, bad [][2]uint64) {
	t.Helper()
	var got []Record
	var gotBad [][2]uint64
	for seq, reads := uint64(0), 0; ; reads++ {
		if reads > 10000 {
			t.Fatalf("no progress reading at seq %d", seq)
		}
		recs, err := s.Read(seq, 7, 0, nil)
		for _, r := range recs {
			if r.Seq < seq {
				t.Fatalf("Read(%d) returned seq %d", seq, r.Seq)
			}
		}
		got = append(got, recs...)
		if len(recs) > 0 {
			seq = recs[len(recs)-1].Seq + 1
		}
		if err == nil {
			if len(recs) == 0 {
				break
			}
			continue
		}
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("Read(%d): %v, want a *CorruptError", seq, err)
		}
		if len(recs) > 0 {
			continue // the records before the damage come first; the next read fails
		}
		if !ce.SeqKnown || ce.Seq > ce.LastSeq || ce.Seq > seq && len(gotBad) > 0 && ce.Seq <= gotBad[len(gotBad)-1][1] {
			t.Fatalf("Read(%d): %+v: want the seqs of the damage", seq, ce)
		}
		if ce.Path != s.Path() || ce.Off < headerSize {
			t.Fatalf("Read(%d): %+v: want the file and offset of the damage", seq, ce)
		}
		gotBad = append(gotBad, [2]uint64{ce.Seq, ce.LastSeq})
		if ce.LastSeq == math.MaxUint64 {
			break // no valid frame after it in this segment
		}
		seq = ce.LastSeq + 1
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d (bad %v, want bad %v)", len(got), len(want), gotBad, bad)
	}
	for i := range want {
		if !sameRecord(got[i], want[i]) {
			t.Fatalf("record %d = seq %d, want %+v", i, got[i].Seq, want[i].Seq)
		}
	}
	if len(gotBad) != len(bad) {
		t.Fatalf("bad regions %v, want %v", gotBad, bad)
	}
	for i := range bad {
		if gotBad[i] != bad[i] {
			t.Fatalf("bad regions %v, want %v", gotBad, bad)
		}
	}
	if len(want) > 0 && s.NextSeq() != want[len(want)-1].Seq+1 {
		t.Fatalf("NextSeq = %d, want %d", s.NextSeq(), want[len(want)-1].Seq+1)
	}
}

// TestSealedDamage damages a sealed segment in one way per case and opens
// it again. A sealed segment is never cut or written: the file is
// byte-for-byte what it was, every valid record reads back, and a read that
// reaches damage fails with a *CorruptError naming its seqs, then resumes
// after them.
func TestSealedDamage(t *testing.T) {
	const base, n, dataSize = 500, 200, 100
	var recs []Record
	for i := 0; i < n; i++ {
		r := record(base+uint64(i), dataSize)
		r.ExplicitHashKey, r.PartitionKey = nil, []byte("pk-0")
		recs = append(recs, r)
	}
	offOf := func(i int) int64 {
		off := int64(headerSize)
		for _, r := range recs[:i] {
			off += frameSize(&r)
		}
		return off
	}
	seqs := func(from, to int) [2]uint64 { return [2]uint64{recs[from].Seq, recs[to].Seq} }
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir, log string)
		last    int         // records recs[:last] were kept (the rest follow unreadable damage)
		skip    []int       // records in bad regions before valid frames
		bad     [][2]uint64 // the errors, in order
	}{
		{"flipped bit in a payload", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(100)+frameHeadSize+40)
		}, n, []int{100}, [][2]uint64{seqs(100, 100)}},
		{"flipped bit in a length word", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(60)+2)
		}, n, []int{60}, [][2]uint64{seqs(60, 60)}},
		{"flipped bit in an indexed frame", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(0)+frameHeadSize) // the first frame always has an entry
		}, n, []int{0}, [][2]uint64{seqs(0, 0)}},
		{"zeroed frames", func(t *testing.T, dir, log string) {
			zero(t, log, offOf(70), offOf(73))
		}, n, []int{70, 71, 72}, [][2]uint64{seqs(70, 72)}},
		{"flipped bits in three frames", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(10)+1)
			flip(t, log, offOf(120)+frameHeadSize+3)
			flip(t, log, offOf(121)+frameHeadSize+3)
		}, n, []int{10, 120, 121}, [][2]uint64{seqs(10, 10), seqs(120, 121)}},
		{"flipped bit after the last index entry", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(n-3)+frameHeadSize+9)
		}, n, []int{n - 3}, [][2]uint64{seqs(n-3, n-3)}},
		{"flipped bit in a payload, index missing", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(100)+frameHeadSize+40)
			must(t, os.Remove(filepath.Join(dir, IndexName(base))))
		}, n, []int{100}, [][2]uint64{seqs(100, 100)}},
		{"flipped bit in a length word, index missing", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(30)+1)
			must(t, os.Remove(filepath.Join(dir, IndexName(base))))
		}, n, []int{30}, [][2]uint64{seqs(30, 30)}},
		{"flipped bit in the last frame", func(t *testing.T, dir, log string) {
			flip(t, log, offOf(n-1)+frameHeadSize+9)
		}, n - 1, nil, [][2]uint64{{recs[n-1].Seq, math.MaxUint64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t)
			o.IndexIntervalBytes = 1024 // entries every 7-8 frames
			s := mustCreate(t, dir, base, o)
			mustAppend(t, s, recs)
			must(t, s.Seal())
			must(t, s.Close())
			tt.corrupt(t, dir, filepath.Join(dir, Name(base)))
			before, err := os.ReadFile(filepath.Join(dir, Name(base)))
			must(t, err)

			r := mustOpen(t, dir, base, false, o)
			var want []Record
			for i, rec := range recs[:tt.last] {
				if !containsInt(tt.skip, i) {
					want = append(want, rec)
				}
			}
			checkDamaged(t, r, want, tt.bad)
			// Resume straight after each bad region, as a consumer with an
			// AFTER_SEQUENCE_NUMBER iterator does: the next valid record first.
			for _, b := range tt.bad {
				if b[1] == math.MaxUint64 {
					continue
				}
				got, err := r.Read(b[1]+1, 1, 0, nil)
				if err != nil || len(got) != 1 || got[0].Seq != b[1]+1 {
					t.Fatalf("Read(%d) after the damage = %d records, %v", b[1]+1, len(got), err)
				}
				// A time seek passes damage older than the time asked and
				// stops at damage that may hold it.
				i := int(b[1] - base)
				if i+4 < n {
					if seq, ok, err := r.SeekTime(recs[i+4].ArrivalMs); err != nil || !ok || seq <= b[1] {
						t.Fatalf("SeekTime after the damage = %d, %v, %v", seq, ok, err)
					}
				}
				if seq, ok, err := r.SeekTime(recs[b[0]-base].ArrivalMs); err != nil || !ok || seq > b[0] {
					t.Fatalf("SeekTime at the damage = %d, %v, %v; want at most %d", seq, ok, err, b[0])
				}
			}
			must(t, r.Close())
			after, err := os.ReadFile(filepath.Join(dir, Name(base)))
			must(t, err)
			if !bytes.Equal(before, after) {
				t.Fatal("opening and reading a sealed segment changed its file")
			}
			if _, err := os.Stat(filepath.Join(dir, Name(base)+".broken")); err == nil {
				t.Fatal("a sealed segment was cut")
			}
		})
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
