package segment

import "fmt"

// Read appends to dst the records with Seq >= seq, starting at the first
// such record (index lookup, then a forward scan), and returns dst. It stops
// after maxRecords records or before the Data of the returned records would
// exceed maxBytes, but returns at least one record if any exists; a limit
// <= 0 means no limit. The slices alias the mapping, or for a compacted
// segment a decompressed buffer on the Go heap: they stay valid while the
// caller holds a reference (Acquire) and must not be modified.
//
// Every returned frame has passed its CRC check; a bad frame returns a
// *CorruptError (wrapped) and never its bytes. Safe concurrently with Append:
// only frames below the published end are read.
func (s *Segment) Read(seq uint64, maxRecords, maxBytes int, dst []Record) ([]Record, error) {
	v := s.cur.Load()
	if v == nil {
		return dst, fmt.Errorf("read segment %s: %w", s.path, ErrClosed)
	}
	c := collector{seq: seq, maxRecords: maxRecords, maxBytes: maxBytes, path: s.path}
	var err error
	if v.compressed {
		dst, err = s.readBlocks(v, &c, dst)
	} else {
		end := s.end.Load()
		off := int64(headerSize)
		if e, ok := v.idx.LookupSeq(seq); ok {
			off = int64(e.Off)
		}
		dst, err = c.frames(v.mapping[:end], int(off), -1, dst)
	}
	if err != nil {
		return dst, fmt.Errorf("read segment %s at seq %d: %w", s.path, seq, err)
	}
	return dst, nil
}

// collector gathers records for one Read across frames and blocks.
type collector struct {
	seq        uint64 // first seq wanted
	maxRecords int
	maxBytes   int
	path       string
	records    int // returned so far
	bytes      int // Data bytes returned so far
	done       bool
}

// frames collects from the frames in b starting at off. blockOff is the
// offset of the compressed block b was decoded from, or -1 when b is the
// file mapping itself; it names the place of a corruption.
func (c *collector) frames(b []byte, off int, blockOff int64, dst []Record) ([]Record, error) {
	for off < len(b) && !c.done {
		size, reason := frameAt(b[off:])
		if size == 0 {
			return dst, c.corrupt(off, blockOff, reason)
		}
		if frameSeq(b[off:]) < c.seq {
			off += size
			continue
		}
		var r Record
		if _, reason := decodeFrame(b[off:], &r); reason != "" {
			return dst, c.corrupt(off, blockOff, reason)
		}
		if c.records > 0 && c.maxBytes > 0 && c.bytes+len(r.Data) > c.maxBytes {
			c.done = true
			break
		}
		dst = append(dst, r)
		c.records++
		c.bytes += len(r.Data)
		c.done = c.maxRecords > 0 && c.records >= c.maxRecords
		off += size
	}
	return dst, nil
}

func (c *collector) corrupt(off int, blockOff int64, reason string) error {
	if reason == "" {
		reason = "end-of-data marker inside valid data"
	}
	if blockOff >= 0 {
		return &CorruptError{Path: c.path, Off: blockOff, Reason: fmt.Sprintf("frame at %d of the block: %s", off, reason)}
	}
	return &CorruptError{Path: c.path, Off: int64(off), Reason: reason}
}

// SeekTime returns the seq of the first record with ArrivalMs >= ms, or
// ok=false when no record in this segment arrived at or after ms. Safe
// concurrently with Append.
func (s *Segment) SeekTime(ms int64) (seq uint64, ok bool, err error) {
	v := s.cur.Load()
	if v == nil {
		return 0, false, fmt.Errorf("seek segment %s: %w", s.path, ErrClosed)
	}
	off := int64(headerSize)
	if e, found := v.idx.LookupTime(ms); found {
		off = int64(e.Off)
	}
	if v.compressed {
		seq, ok, err = s.seekBlocks(v, off, ms)
	} else {
		seq, ok, err = seekFrames(v.mapping[:s.end.Load()], int(off), ms, -1, s.path)
	}
	if err != nil {
		return 0, false, fmt.Errorf("seek segment %s to time %d: %w", s.path, ms, err)
	}
	return seq, ok, nil
}

// seekFrames finds the first frame in b from off with arrival >= ms.
func seekFrames(b []byte, off int, ms int64, blockOff int64, path string) (uint64, bool, error) {
	c := collector{path: path}
	for off < len(b) {
		var r Record
		size, reason := decodeFrame(b[off:], &r)
		if size == 0 {
			return 0, false, c.corrupt(off, blockOff, reason)
		}
		if r.ArrivalMs >= ms {
			return r.Seq, true, nil
		}
		off += size
	}
	return 0, false, nil
}
