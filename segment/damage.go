package segment

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
)

// damage is a run of bytes of a plain segment that holds no valid frame
// although records were written there: bit rot, or a page lost in the
// middle of the file. When valid frames follow it, it is corruption, not a
// torn tail: the frames after it are kept and a read that reaches it fails
// with a *CorruptError naming the seqs it held. In a sealed segment it may
// also be the end of the file (nothing valid after it; last is then
// math.MaxUint64): a sealed file is never cut.
//
// A segment learns its damage on Open (an active segment's full scan, a
// sealed segment's scan after its last index entry, or an index rebuild)
// and when a read meets a bad frame; the list lives in memory only and is
// found again after every open.
type damage struct {
	off, end    int64  // the bad bytes [off, end); end is the first valid frame after them, or the end of the file
	first, last uint64 // the seqs the bad bytes may hold, as the frames (or index entries) around them bound them
	reason      string // what was wrong with the frame at off
	// quarantined damage was set aside by fsck --repair (Quarantine): reads
	// skip it without an error.
	quarantined bool
}

// err returns the error a read reaching d fails with.
func (d *damage) err(path string) *CorruptError {
	return &CorruptError{Path: path, Off: d.off, Reason: d.reason, SeqKnown: true, Seq: d.first, LastSeq: d.last}
}

// damageAt returns the known damage whose bytes include off, or nil. Safe
// concurrently with everything; allocation-free.
func (s *Segment) damageAt(off int64) *damage {
	p := s.damaged.Load()
	if p == nil {
		return nil
	}
	for i := range *p {
		if d := &(*p)[i]; off >= d.off && off < d.end {
			return d
		}
	}
	return nil
}

// tailDamage returns the damage after a sealed segment's last valid frame
// that reads do not skip, or nil.
func (s *Segment) tailDamage() *damage {
	p := s.damaged.Load()
	if p == nil {
		return nil
	}
	if d := &(*p)[len(*p)-1]; d.last == math.MaxUint64 && !d.quarantined {
		return d
	}
	return nil
}

// TailDamaged reports whether the segment is sealed and bytes after its
// last valid frame hold records no read can return: a read from NextSeq on
// fails with a *CorruptError (LastSeq math.MaxUint64) instead of finding
// nothing. The caller, who knows the next segment's base, bounds it. Safe
// concurrently.
func (s *Segment) TailDamaged() bool { return s.tailDamage() != nil }

// addDamage records d, found by a read, unless known damage already covers
// its offset, and returns the recorded one. The list is copied on write,
// so readers never lock.
func (s *Segment) addDamage(d damage) *damage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if known := s.damageAt(d.off); known != nil {
		return known
	}
	var list []damage
	if p := s.damaged.Load(); p != nil {
		list = slices.Clone(*p)
	}
	list = append(list, d)
	slices.SortFunc(list, func(a, b damage) int { return int(a.off - b.off) })
	s.damaged.Store(&list)
	s.log.Error().Str("path", s.path).Int64("off", d.off).Int64("bytes", d.end-d.off).Uint64("seq", d.first).
		Str("reason", d.reason).Msg("corrupt records between valid frames; reads of them fail")
	return &list[slices.IndexFunc(list, func(x damage) bool { return x.off == d.off })]
}

// locate finds the extent of the damage at off, a frame of m (the plain
// mapping up to the published end) that failed its checks, and records it.
// The index entry at or before off and the frames after it give the seqs
// the damage may start at; resync finds the frame after it, searching no
// further than the next index entry that points at a valid frame.
func (s *Segment) locate(v *view, m []byte, off int64, reason string) *damage {
	if d := s.damageAt(off); d != nil {
		return d
	}
	idx := v.idx
	n := idx.Len()
	i := sort.Search(n, func(i int) bool { return int64(idx.Entry(i).Off) > off }) // first entry after off
	first, minMs, p := s.base, int64(math.MinInt64), int64(headerSize)
	if i > 0 {
		e := idx.Entry(i - 1)
		first, minMs, p = e.Seq, e.TimeMs, int64(e.Off)
	}
	// Walk the frames from the entry up to off: the last one bounds the seqs.
	for p < off {
		size, _ := frameAt(m[p:])
		if size == 0 || p+int64(size) > off {
			break
		}
		first, minMs = frameSeq(m[p:])+1, int64(binary.LittleEndian.Uint64(m[p+16:]))
		p += int64(size)
	}
	limit := int64(len(m))
	for ; i < n; i++ {
		if e := idx.Entry(i); s.entryMatches(m, e) {
			limit = int64(e.Off)
			break
		}
	}
	d := damage{off: off, end: int64(len(m)), first: first, last: s.nextSeq.Load() - 1, reason: reason}
	if next, seq, ok := s.resync(m, off, limit, first, minMs); ok {
		d.end, d.last = next, seq-1
	} else if limit < int64(len(m)) {
		d.end, d.last = limit, idx.Entry(i).Seq-1
	}
	if d.last < d.first { // the bounds contradict each other: say the one seq we are sure of
		d.last = d.first
	}
	return s.addDamage(d)
}

// resync returns the offset and seq of the first valid frame after the bad
// frame at off in m, searching below limit. It first follows the sizes of
// frames whose lengths still add up (a flip in a payload, a CRC or a seq
// leaves them), then searches byte by byte (a flip in a length). A frame
// found must have a seq >= first and an arrival >= minMs. Found byte by
// byte, it must also be followed by a valid frame or the end of the data,
// or have seq first+1, so that a frame stored inside a record's data is
// not taken for the next one. Only called on damage: it may read every
// byte up to limit.
func (s *Segment) resync(m []byte, off, limit int64, first uint64, minMs int64) (next int64, seq uint64, ok bool) {
	limit = min(limit, int64(len(m)))
	valid := func(p int64) (uint64, int, bool) {
		var r Record
		size, reason := decodeFrame(m[p:], &r)
		if size == 0 || reason != "" || r.Seq < first || r.Seq < s.base || r.ArrivalMs < minMs {
			return 0, 0, false
		}
		return r.Seq, size, true
	}
	for p := off; p < limit; {
		size, _ := frameAt(m[p:])
		if size == 0 {
			break
		}
		if p += int64(size); p < limit {
			if seq, _, ok := valid(p); ok {
				return p, seq, true
			}
		}
	}
	for p := off + 1; p+frameHeadSize <= limit; p++ {
		if size := binary.LittleEndian.Uint32(m[p:]); size < frameHeadSize || int64(size) > int64(len(m))-p {
			continue
		}
		seq, size, ok := valid(p)
		if !ok {
			continue
		}
		q := p + int64(size)
		if seq == first+1 || q == int64(len(m)) {
			return p, seq, true
		}
		if int64(len(m))-q >= 4 && binary.LittleEndian.Uint32(m[q:]) == 0 {
			return p, seq, true // the end-of-data marker
		}
		var r Record
		if n, reason := decodeFrame(m[q:], &r); n > 0 && reason == "" && r.Seq > seq {
			return p, seq, true
		}
	}
	return 0, 0, false
}
