package segment

import (
	"errors"
	"math"
	"path/filepath"
)

// DamageKind says what Check found wrong with a segment.
type DamageKind int

// Kinds of damage Check reports.
const (
	// DamageOpen: the segment cannot be opened (Err): a bad header, a
	// format version this build does not read, an unreadable file, ...
	DamageOpen DamageKind = iota + 1
	// DamageCorrupt: records Seq through LastSeq are unreadable, with valid
	// frames after them that the daemon keeps (LastSeq math.MaxUint64: to
	// the end of a sealed segment, which is never cut). Reason says what
	// was wrong with the bytes at Off.
	DamageCorrupt
	// DamageFrame: the frame or block at Off is bad (Reason) and no record
	// from Seq on can be read.
	DamageFrame
	// DamageRead: a read from Seq failed (Err) for another reason.
	DamageRead
	// DamageShort: the index or the frames end before the segment's last
	// seq; records from Seq on are missing.
	DamageShort
	// DamageOrder: a frame holds seq Found, not after the records before
	// it (positions may skip, never repeat or go back).
	DamageOrder
	// DamageTail: Bytes non-zero bytes follow the last valid frame, from
	// Off on: a torn write, or damage that hides the records from Seq on.
	// Recovery of an active segment cuts them.
	DamageTail
	// DamageIndex: the index file (Path) does not match the frames; it is
	// derived data that the daemon rebuilds.
	DamageIndex
)

// Damage is one problem Check found in a segment.
type Damage struct {
	Kind    DamageKind
	Path    string // the file the damage is in: the .log, or the .idx for DamageIndex
	Off     int64  // byte offset in Path, when known
	Seq     uint64 // the first seq that cannot be read
	LastSeq uint64 // DamageCorrupt: the last seq the damage may hold
	Found   uint64 // DamageOrder: the seq found out of order
	Bytes   int64  // DamageTail: non-zero bytes after the last valid frame
	Reason  string // what was wrong with the bytes, e.g. "crc mismatch"
	Err     error  // DamageOpen and DamageRead: the error
}

// CheckResult is what Check found in one segment.
type CheckResult struct {
	Base       uint64
	NextSeq    uint64 // after the last readable record, as far as the check got
	Records    int64  // records read back intact
	Bytes      int64  // bytes of their data, partition keys and explicit hash keys
	Compressed bool
	Damage     []Damage
}

// checkReadRecords is how many records Check reads at a time.
const checkReadRecords = 1000

// Check reads every record of the segment with that base in dir, checking
// each frame's CRC and sequence, that nothing but zeros follows the last
// frame of a plain file, and that the index matches the frames, and
// reports the damage it finds. It goes on past corrupt records that valid
// frames follow, as readers do. It opens the segment with OpenReadOnly and
// writes nothing. A shard's last segment may be the empty leftover of an
// interrupted roll, which the caller tells apart with Unfinished first.
func Check(dir string, base uint64, opts Options) CheckResult {
	res := CheckResult{Base: base, NextSeq: base}
	seg, err := OpenReadOnly(dir, base, opts)
	if err != nil {
		res.Damage = append(res.Damage, Damage{Kind: DamageOpen, Path: filepath.Join(dir, Name(base)), Seq: base, Err: err})
		return res
	}
	defer seg.Close()
	res.Compressed = seg.Compressed()
	seg.check(&res)
	if seg.IndexRepaired() || !seg.indexMatches() {
		res.Damage = append(res.Damage, Damage{Kind: DamageIndex, Path: seg.idxPath, Seq: base})
	}
	return res
}

// check reads the records and looks past the last frame; it stops at the
// first damage readers cannot pass.
func (s *Segment) check(res *CheckResult) {
	next, end := s.base, s.NextSeq()
	defer func() { res.NextSeq = next }()
	var recs []Record
	var err error
	for next < end {
		recs, err = s.Read(next, checkReadRecords, 8<<20, recs[:0])
		var ce *CorruptError
		if errors.As(err, &ce) && ce.SeqKnown && len(recs) == 0 {
			// Corruption between valid frames: report it and go on from
			// the first valid frame after it, as readers do.
			res.Damage = append(res.Damage, Damage{Kind: DamageCorrupt, Path: s.path, Off: ce.Off, Seq: ce.Seq, LastSeq: ce.LastSeq, Reason: ce.Reason})
			if ce.LastSeq == math.MaxUint64 {
				return
			}
			next = ce.LastSeq + 1
			continue
		}
		if err != nil {
			// The records before the bad frame are good: count them, so
			// that the damage names the first unreadable seq.
			for _, r := range recs {
				if r.Seq == next {
					next++
					res.Records++
				}
			}
			d := Damage{Kind: DamageRead, Path: s.path, Seq: next, Err: err}
			if errors.As(err, &ce) {
				d.Kind, d.Off, d.Reason, d.Err = DamageFrame, ce.Off, ce.Reason, nil
			}
			res.Damage = append(res.Damage, d)
			return
		}
		if len(recs) == 0 {
			res.Damage = append(res.Damage, Damage{Kind: DamageShort, Path: s.path, Seq: next})
			return
		}
		for _, r := range recs {
			if r.Seq < next {
				res.Damage = append(res.Damage, Damage{Kind: DamageOrder, Path: s.path, Seq: next, Found: r.Seq})
				return
			}
			next = r.Seq + 1
			res.Records++
			res.Bytes += int64(len(r.Data) + len(r.PartitionKey) + len(r.ExplicitHashKey))
		}
	}
	if v := s.cur.Load(); !v.compressed {
		// An active file is pre-sized with zeros; a sealed one ends at its
		// last frame. Anything else after the frames is a torn tail.
		end := s.end.Load()
		if first, n := nonZero(v.mapping[end:]); n > 0 {
			res.Damage = append(res.Damage, Damage{Kind: DamageTail, Path: s.path, Off: end + int64(first), Seq: next, Bytes: n})
		}
	}
}

// indexMatches reports whether every entry of a plain segment's index
// points at a frame with the entry's seq and arrival time, but for entries
// in damage that reads found (the frame is bad there, not the index). A
// sealed open checks only the last entries; Check wants them all.
func (s *Segment) indexMatches() bool {
	v := s.cur.Load()
	if v.compressed {
		return true // Open compared every entry with the block headers
	}
	m := v.mapping[:s.end.Load()]
	for i := 0; i < v.idx.Len(); i++ {
		if e := v.idx.Entry(i); !s.entryMatches(m, e) && s.damageAt(int64(e.Off)) == nil {
			return false
		}
	}
	return true
}

// nonZero returns the offset of the first non-zero byte of b and how many
// non-zero bytes b holds (-1 and 0 when b is all zeros).
func nonZero(b []byte) (first int, n int64) {
	first = -1
	for i, c := range b {
		if c != 0 {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	return first, n
}
