package segment

import (
	"fmt"
	"math"
)

// Read appends to dst the records with Seq >= seq, starting at the first
// such record (index lookup, then a forward scan), and returns dst. It stops
// after maxRecords records or before the Data of the returned records would
// exceed maxBytes, but returns at least one record if any exists; a limit
// <= 0 means no limit. The slices alias the mapping, or for a compressed
// segment a decompressed buffer on the Go heap: they stay valid while the
// caller holds a reference (Acquire) and must not be modified.
//
// Every returned frame has passed its CRC check; a bad frame returns a
// *CorruptError (wrapped) and never its bytes. In a plain segment the error
// names the seqs the bad bytes held, and the valid frames after them stay
// readable: a read from a seq past the damage (LastSeq+1) starts at the
// first valid frame after it. A read that reaches damage after returning
// records stops before it without an error; the next read, from the first
// seq of the damage, fails. Damage quarantined by fsck --repair is skipped.
// Safe concurrently with Append: only frames below the published end are
// read.
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
		dst, err = s.readFrames(v, &c, dst)
	}
	if err != nil {
		return dst, fmt.Errorf("read segment %s at seq %d: %w", s.path, seq, err)
	}
	return dst, nil
}

// readFrames is Read for a plain segment: an index lookup, then a forward
// scan. A bad frame is looked up in (or added to) the segment's damage; a
// read that wants only records after the damage goes on from the first
// valid frame after it, any other stops there.
func (s *Segment) readFrames(v *view, c *collector, dst []Record) ([]Record, error) {
	m := v.mapping[:s.end.Load()]
	off := int64(headerSize)
	c.lo = s.base
	if e, ok := v.idx.LookupSeq(c.seq); ok {
		off, c.lo = int64(e.Off), e.Seq
	}
	for {
		var err error
		var bad int
		dst, bad, err = c.frames(m, int(off), -1, dst)
		if err == nil {
			break
		}
		d := s.locate(v, m, int64(bad), err.(*CorruptError).Reason)
		if c.records > 0 {
			return dst, nil // the records before the damage; the next read fails
		}
		if !d.quarantined && c.seq <= d.last {
			return dst, d.err(s.path)
		}
		if d.end >= int64(len(m)) || d.last == math.MaxUint64 {
			return dst, nil
		}
		off, c.lo = d.end, d.last+1
	}
	if d := s.tailDamage(); d != nil && c.records == 0 && !c.done && d.off >= int64(len(m)) {
		return dst, d.err(s.path)
	}
	return dst, nil
}

// collector gathers records for one Read across frames and blocks.
type collector struct {
	seq        uint64 // first seq wanted
	lo         uint64 // the next frame's seq must be at least this
	maxRecords int
	maxBytes   int
	path       string
	records    int // returned so far
	bytes      int // Data bytes returned so far
	done       bool
}

// frames collects from the frames in b starting at off. blockOff is the
// offset of the compressed block b was decoded from, or -1 when b is the
// file mapping itself; it names the place of a corruption. On a bad frame
// it returns its offset in b and a *CorruptError. Frames before the wanted
// seq are skipped by their lengths (no CRC check) but their seqs must rise,
// so that a damaged seq cannot make a reader skip the record it asked for.
func (c *collector) frames(b []byte, off int, blockOff int64, dst []Record) ([]Record, int, error) {
	for off < len(b) && !c.done {
		size, reason := frameAt(b[off:])
		if size == 0 {
			return dst, off, c.corrupt(off, blockOff, reason)
		}
		if sq := frameSeq(b[off:]); sq < c.seq {
			if sq < c.lo {
				return dst, off, c.corrupt(off, blockOff, "seq out of order")
			}
			c.lo = sq + 1
			off += size
			continue
		}
		var r Record
		if _, reason := decodeFrame(b[off:], &r); reason != "" {
			return dst, off, c.corrupt(off, blockOff, reason)
		}
		if r.Seq < c.lo {
			return dst, off, c.corrupt(off, blockOff, "seq out of order")
		}
		if c.records > 0 && c.maxBytes > 0 && c.bytes+len(r.Data) > c.maxBytes {
			c.done = true
			break
		}
		dst = append(dst, r)
		c.lo = r.Seq + 1
		c.records++
		c.bytes += len(r.Data)
		c.done = c.maxRecords > 0 && c.records >= c.maxRecords
		off += size
	}
	return dst, 0, nil
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
		seq, ok, err = s.seekPlain(v, off, ms)
	}
	if err != nil {
		return 0, false, fmt.Errorf("seek segment %s to time %d: %w", s.path, ms, err)
	}
	return seq, ok, nil
}

// seekPlain is SeekTime for a plain segment. Damage is passed when the
// frame after it arrived before ms (so did the records in it); otherwise
// the damage's first seq is the answer, and reading from it fails loudly.
// Quarantined damage is passed.
func (s *Segment) seekPlain(v *view, off int64, ms int64) (uint64, bool, error) {
	m := v.mapping[:s.end.Load()]
	for {
		seq, ok, err := seekFrames(m, int(off), ms, -1, s.path)
		ce, bad := err.(*CorruptError)
		if !bad {
			return seq, ok, err
		}
		d := s.locate(v, m, ce.Off, ce.Reason)
		if d.end >= int64(len(m)) || d.last == math.MaxUint64 {
			if d.quarantined {
				return 0, false, nil
			}
			return d.first, true, nil
		}
		var r Record
		if size, _ := decodeFrame(m[d.end:], &r); size > 0 && r.ArrivalMs >= ms && !d.quarantined {
			return d.first, true, nil
		}
		off = d.end
	}
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
