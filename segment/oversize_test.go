package segment

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// TestRecordLargerThanSegment: a frame larger than MaxSegmentBytes is
// accepted as the only frame of an empty segment, whose file grows to hold
// it; the segment is then full. Its frame survives a crash (recovery of an
// active file larger than configured) and a seal, byte for byte, and a
// batch that meets it in a non-empty segment stops before it (the caller
// rolls).
func TestRecordLargerThanSegment(t *testing.T) {
	o := testOptions(t)
	o.MaxSegmentBytes = 64 << 10
	o.InitialBytes = 16 << 10
	largest := func(seq uint64) Record {
		r := record(seq, MaxDataBytes)
		r.PartitionKey = bytes.Repeat([]byte{'k'}, MaxPartitionKeyBytes)
		r.ExplicitHashKey = bytes.Repeat([]byte{'9'}, MaxExplicitHashKeyBytes)
		return r
	}
	for _, tc := range []struct {
		name  string
		big   Record
		after func(t *testing.T, dir string, s *Segment) *Segment // returns the segment to check
	}{
		{"1 MiB, open", record(0, 1<<20), func(t *testing.T, dir string, s *Segment) *Segment { return s }},
		{"largest frame, open", largest(0), func(t *testing.T, dir string, s *Segment) *Segment { return s }},
		{"1 MiB, crash and recover", record(0, 1<<20), func(t *testing.T, dir string, s *Segment) *Segment {
			crash(s)
			return mustOpen(t, dir, 0, true, o)
		}},
		{"largest frame, seal and reopen", largest(0), func(t *testing.T, dir string, s *Segment) *Segment {
			if err := s.Seal(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return mustOpen(t, dir, 0, false, o)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustCreate(t, dir, 0, o)
			mustAppend(t, s, []Record{tc.big})
			if n, err := s.Append(records(1, 1, 10)); n != 0 || err != nil {
				t.Fatalf("Append after the large frame = %d, %v; want 0, nil (full)", n, err)
			}
			s = tc.after(t, dir, s)
			defer s.Close()
			checkAll(t, s, []Record{tc.big})
			fi, err := os.Stat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() < headerSize+frameSize(&tc.big) {
				t.Fatalf("file of %d bytes holds a %d-byte frame", fi.Size(), frameSize(&tc.big))
			}
			if n, err := s.Append(records(1, 1, 10)); n != 0 || (err != nil && !errors.Is(err, ErrSealed)) {
				t.Fatalf("Append to the full segment = %d, %v", n, err)
			}
		})
	}

	// In a segment that already holds frames the large one waits for the
	// next segment; the frames before it are written.
	s := mustCreate(t, t.TempDir(), 0, o)
	defer s.Close()
	batch := append(records(0, 2, 100), record(2, 1<<20))
	if n, err := s.Append(batch); n != 2 || err != nil {
		t.Fatalf("Append(small, small, large) = %d, %v; want 2, nil", n, err)
	}
	if fi, _ := os.Stat(s.Path()); fi.Size() > o.MaxSegmentBytes {
		t.Fatalf("a segment of small frames grew to %d bytes", fi.Size())
	}
}
