package shard

import (
	"path/filepath"
	"time"
)

// SegmentInfo describes one segment file of a shard, for display (the web
// console) and diagnostics. It is a snapshot: the active segment keeps
// growing after it is taken.
type SegmentInfo struct {
	// Name is the data file's name, e.g. "00000000000000000000.log".
	Name string
	// Base is the position of the segment's first record.
	Base uint64
	// Next is the position after its last record (Base when empty).
	Next uint64
	// Bytes is the size of valid data including the header, in bytes (for
	// a compressed segment, its compressed file size).
	Bytes int64
	// First and Last are the arrival times of its first and newest
	// records; zero when the segment is empty.
	First, Last time.Time
	// Sealed is true once the segment is read-only; the active segment of
	// an open shard is not.
	Sealed bool
	// Compressed is true once Store.Compress rewrote it in blocks.
	Compressed bool
}

// Segments returns the shard's segments, oldest first. It takes no lock
// and holds no segment reference: it reads the published list and each
// segment's atomic counters, so it is safe concurrently with appends,
// expiry and compression (a segment retired meanwhile may still be listed).
func (sh *Shard) Segments() []SegmentInfo {
	segs := *sh.segs.Load()
	out := make([]SegmentInfo, 0, len(segs))
	for _, s := range segs {
		si := SegmentInfo{
			Name:       filepath.Base(s.Path()),
			Base:       s.Base(),
			Next:       s.NextSeq(),
			Bytes:      s.Size(),
			Sealed:     s.Sealed(),
			Compressed: s.Compressed(),
		}
		if si.Next > si.Base {
			si.First, si.Last = time.UnixMilli(s.FirstTimeMs()), time.UnixMilli(s.LastTimeMs())
		}
		out = append(out, si)
	}
	return out
}
