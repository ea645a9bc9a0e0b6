package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCompress(t *testing.T) {
	for _, c := range []Compression{Zstd, S2} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t)
			o.Compression = c
			s := mustCreate(t, dir, 0, o)
			want := jsonRecords(0, 3000)
			mustAppend(t, s, want)
			if err := s.Compress(); !errors.Is(err, ErrNotSealed) {
				t.Fatalf("Compress active = %v", err)
			}
			if err := s.Seal(); err != nil {
				t.Fatal(err)
			}
			plain := s.Size()
			// A reader holding slices of the plain mapping keeps them valid.
			if !s.Acquire() {
				t.Fatal("Acquire")
			}
			before, err := s.Read(0, 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Compress(); err != nil {
				t.Fatal(err)
			}
			if !s.Compressed() || s.Size() >= plain {
				t.Fatalf("compressed %v, size %d of %d", s.Compressed(), s.Size(), plain)
			}
			for i := range want {
				if !sameRecord(before[i], want[i]) {
					t.Fatalf("old slices changed at %d", i)
				}
			}
			s.Release()
			checkAll(t, s, want)
			checkReads(t, s, want)
			if err := s.Compress(); err != nil {
				t.Fatalf("second Compress: %v", err)
			}
			s.Close()

			r := mustOpen(t, dir, 0, false, o)
			checkAll(t, r, want)
			checkReads(t, r, want)
			r.Close()
			if _, err := Open(dir, 0, true, o); !errors.Is(err, ErrSealed) {
				t.Fatalf("Open compressed as active = %v", err)
			}
			// A crash between the two renames leaves the plain index: it is rebuilt.
			must(t, os.WriteFile(filepath.Join(dir, IndexName(0)), make([]byte, 48), 0o644))
			r = mustOpen(t, dir, 0, false, o)
			defer r.Close()
			checkReads(t, r, want)
		})
	}
}

// checkReads reads from many starting seqs with limits and seeks by time.
func checkReads(t *testing.T, s *Segment, want []Record) {
	t.Helper()
	for i := 0; i < len(want); i += 97 {
		got, err := s.Read(want[i].Seq, 10, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != min(10, len(want)-i) || !sameRecord(got[0], want[i]) {
			t.Fatalf("Read(%d) = %d records", want[i].Seq, len(got))
		}
		seq, ok, err := s.SeekTime(want[i].ArrivalMs)
		if err != nil || !ok || want[seq-want[0].Seq].ArrivalMs != want[i].ArrivalMs || (seq > want[0].Seq && want[seq-want[0].Seq-1].ArrivalMs >= want[i].ArrivalMs) {
			t.Fatalf("SeekTime(%d) = %d, %v, %v", want[i].ArrivalMs, seq, ok, err)
		}
	}
}

func TestCompressCorruptBlock(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t)
	o.Compression = Zstd
	s := mustCreate(t, dir, 0, o)
	mustAppend(t, s, jsonRecords(0, 1000))
	must(t, s.Seal())
	must(t, s.Compress())
	s.Close()
	flip(t, filepath.Join(dir, Name(0)), headerSize+blockHeadSize+10)
	r := mustOpen(t, dir, 0, false, o)
	defer r.Close()
	var ce *CorruptError
	if _, err := r.Read(0, 0, 0, nil); !errors.As(err, &ce) || ce.Off != headerSize {
		t.Fatalf("Read of a damaged block = %v", err)
	}
}

// jsonRecords returns small JSON documents with varied values, like the
// records Kinesis producers typically send.
func jsonRecords(first uint64, n int) []Record {
	names := []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "Trent", "Peggy"}
	jobs := []string{"engineer", "doctor", "teacher", "pilot", "chef", "artist"}
	rng := rand.New(rand.NewPCG(1, 2))
	rs := make([]Record, n)
	t0 := time.Now().UnixMilli()
	for i := range rs {
		g := "F"
		if rng.IntN(2) == 0 {
			g = "M"
		}
		data := fmt.Sprintf(`{"name":%q,"age":%d,"gender":%q,"score":%.1f,"job":%q}`,
			names[rng.IntN(len(names))], 18+rng.IntN(60), g, float64(rng.IntN(1000))/10, jobs[rng.IntN(len(jobs))])
		rs[i] = Record{Seq: first + uint64(i), ArrivalMs: t0 + int64(i/5), PartitionKey: []byte(fmt.Sprintf("user-%d", rng.IntN(1000))), Data: []byte(data)}
	}
	return rs
}

// BenchmarkCompressedRead measures the ratio and the cost of reading JSON
// records back from plain, zstd and s2 segments (figures in doc.go).
func BenchmarkCompressedRead(b *testing.B) {
	recs := jsonRecords(0, 100000)
	for _, c := range []Compression{None, Zstd, S2} {
		b.Run(c.String(), func(b *testing.B) {
			o := DefaultOptions()
			o.Compression = c
			dir := b.TempDir()
			s := mustCreate(b, dir, 0, o)
			defer s.Close()
			mustAppend(b, s, recs)
			if err := s.Seal(); err != nil {
				b.Fatal(err)
			}
			plain := s.Size()
			if err := s.Compress(); err != nil {
				b.Fatal(err)
			}
			var dataBytes int
			for _, r := range recs {
				dataBytes += len(r.Data)
			}
			b.SetBytes(int64(dataBytes))
			b.ReportAllocs()
			var buf []Record
			for b.Loop() {
				for seq := uint64(0); seq < uint64(len(recs)); seq += uint64(len(buf)) {
					var err error
					if buf, err = s.Read(seq, 1000, 0, buf[:0]); err != nil || len(buf) == 0 {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(plain)/float64(s.Size()), "ratio")
		})
	}
}
