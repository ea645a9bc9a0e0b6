package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/shardlog/shardlog/index"
)

// Open opens an existing segment.
//
// With active=false the segment is sealed: the file is mapped read-only at
// its size and trusted, but every frame is still CRC-checked when read, and
// it is never cut: damage found after the last index entry or by a read is
// remembered and reported by the reads that reach it.
// NextSeq comes from the last index entry plus a scan of the frames after
// it. A missing or damaged index is rebuilt from the data.
//
// With active=true Open recovers the segment for appending: it scans all
// frames with CRC checks and keeps the index entries that match them. A bad
// frame followed by valid frames is corruption, not a tail: the frames after
// it are kept (found again by resync, damage.go) and reads of the bad bytes
// fail with a *CorruptError. Only bad bytes with nothing valid after them
// are a torn tail: Open cuts them (saving
// the cut bytes as <base>.log.broken and zeroing them, so that a later scan
// cannot resurrect them), rebuilds the index tail and logs the cut at warn.
// A file shorter than MaxSegmentBytes keeps its size; Append grows it. A compressed segment cannot be active (ErrSealed).
// An active segment is opened without a sync: its first Sync, Seal or
// Close covers the whole file, including what recovery wrote.
func Open(dir string, base uint64, active bool, opts Options) (*Segment, error) {
	s := newSegment(dir, base, opts)
	if err := s.open(active); err != nil {
		return nil, fmt.Errorf("open segment %s: %w", s.path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing segment for reading and never writes to
// its files: the data file is opened O_RDONLY and mapped PROT_READ, and the
// index is read into memory (index.Load). It recovers the segment as Open
// with active=false does, scanning the frames after the last index entry:
// damage it finds is remembered in memory and reported by the reads that
// reach it, and an index that does not match the frames is repaired in
// memory only (IndexRepaired says so). An active segment is read as far as
// its valid frames go; nothing is cut. Append and Reserve return ErrSealed,
// Compress returns ErrReadOnly, and Retire never removes the files. It is
// what offline tools use (see Check).
func OpenReadOnly(dir string, base uint64, opts Options) (*Segment, error) {
	s := newSegment(dir, base, opts)
	s.readOnly = true
	if err := s.open(false); err != nil {
		return nil, fmt.Errorf("open segment %s read-only: %w", s.path, err)
	}
	return s, nil
}

// openIndex opens the index of the segment with room for capacity entries:
// mapped read-write, or read into memory for a read-only segment.
func (s *Segment) openIndex(capacity int) (*index.Index, error) {
	if s.readOnly {
		return index.Load(s.idxPath, capacity)
	}
	return index.Open(s.idxPath, capacity)
}

// IndexRepaired reports whether a segment opened with OpenReadOnly holds
// an index other than its file's: the file lacked entries, held some that
// do not match the frames, or is missing. Open would have rewritten it.
func (s *Segment) IndexRepaired() bool {
	v := s.cur.Load()
	return v != nil && v.idx.Modified()
}

func (s *Segment) open(active bool) (err error) {
	flag := os.O_RDONLY
	if active {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(s.path, flag, 0)
	if err != nil {
		return err
	}
	v := &view{file: f}
	defer func() {
		if err == nil {
			err = v.dropFile() // the mapping needs no descriptor
		}
		if err != nil {
			s.cur.Store(nil)
			if v.mapping != nil {
				_ = v.mapping.UnsafeUnmap()
			}
			if v.idx != nil {
				_ = v.idx.Close()
			}
			if v.file != nil {
				_ = f.Close()
			}
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	var hb [headerSize]byte
	if _, err := f.ReadAt(hb[:], 0); err != nil {
		return fmt.Errorf("%w: read: %v", ErrBadHeader, err)
	}
	h, err := parseHeader(hb[:], s.base)
	if err != nil {
		return err
	}
	s.created = h.created()
	if h.flags&flagCompressed == 0 {
		s.reserved = h.nextSeq
	}
	if h.flags&flagCompressed != 0 {
		if active {
			return fmt.Errorf("%w: compressed segment opened as active", ErrSealed)
		}
		return s.openCompressed(v, h, size)
	}
	// An active segment is mapped at its full size; only the part the file
	// has blocks for is ever read or written (Append allocates ahead).
	mapSize := size
	s.allocated = size
	if active && size < s.opts.capacity() {
		mapSize = s.opts.capacity()
	}
	if v.mapping, err = mapFile(f, mapSize, active); err != nil {
		return err
	}
	capacity := 0 // a sealed index keeps its size ...
	if active {
		capacity = s.opts.indexCapacity()
	} else if _, err := os.Stat(s.idxPath); errors.Is(err, os.ErrNotExist) {
		capacity = int(size/int64(s.opts.IndexIntervalBytes)) + 1 // ... unless it must be rebuilt
	}
	if v.idx, err = s.openIndex(capacity); err != nil {
		return err
	}
	if err := s.recover(v, active); err != nil {
		return err
	}
	if active {
		// Not synced here: what a killed predecessor left dirty in the
		// page cache is not known to be on disk, so the first Sync covers
		// the whole file (synced is 0), and the owner decides by its fsync
		// policy when that happens. A shard reloaded after going idle, or
		// after a clean shutdown, has nothing unsynced, and its first
		// append need not wait for a flush. The index is derived data,
		// rebuilt by the next recovery. Only a cut is made durable at once
		// (an fsync also covers the zeroed bytes past the end, which Sync
		// does not); it is as rare as damage.
		s.synced = 0
		if s.cutBytes > 0 {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("fsync after cutting the tail: %w", err)
			}
		}
	} else {
		if err := v.idx.Seal(); err != nil {
			return err
		}
		s.sealed.Store(true)
	}
	s.cur.Store(v)
	return nil
}

// recover finds the end of the valid frames, repairs the index and, for an
// active segment, cuts whatever follows the valid frames.
//
// A sealed segment is trusted: the index tail is checked against the frames
// and only the frames after the last good entry are scanned. An active
// segment is scanned in full with CRC checks (tens of milliseconds for 64
// MiB, and only once per start): after power loss a page in the middle may
// be lost while later pages reached the disk, and a tail-only scan would
// keep the frames behind such a hole. Index entries are kept while they
// match the frames and rebuilt from the first one that does not.
func (s *Segment) recover(v *view, active bool) error {
	start := time.Now()
	m, idx := v.mapping, v.idx
	limit := min(int64(len(m)), s.allocated) // never read past the end of the file

	dropped := 0
	off := int64(headerSize)
	next := 0 // next index entry expected to match a frame
	if !active {
		// Drop index entries that do not point at a valid frame with their seq.
		for idx.Len() > 0 {
			e, _ := idx.Last()
			if s.entryMatches(m, e) {
				break
			}
			if err := idx.Truncate(idx.Len() - 1); err != nil {
				return err
			}
			dropped++
		}
		if e, ok := idx.Last(); ok {
			off, next = int64(e.Off), idx.Len()-1
		}
	}
	var (
		prevSeq    uint64
		prevMs     int64
		firstMs    int64
		first      = true
		sinceIndex int
		reason     string
		records    int
		damages    []damage
		resynced   bool // the frame at off follows damage: index it
	)
	for off < limit {
		var r Record
		var size int
		size, reason = decodeFrame(m[off:limit], &r)
		switch {
		case size == 0:
		case first && r.Seq < s.base:
			size, reason = 0, fmt.Sprintf("seq %d below base", r.Seq)
		case !first && (r.Seq <= prevSeq || r.ArrivalMs < prevMs):
			size, reason = 0, fmt.Sprintf("seq %d arrival %d out of order after seq %d arrival %d", r.Seq, r.ArrivalMs, prevSeq, prevMs)
		}
		if size == 0 {
			// The end of the data, a torn tail, or damage with valid frames
			// after it: only the last is kept past.
			tail, err := lastNonZeroIn(v.file, off, limit)
			if err != nil {
				return err
			}
			tailEnd := off + int64(tail)
			if tailEnd == off {
				break
			}
			if reason == "" {
				reason = "end-of-data marker before non-zero bytes"
			}
			lo, minMs := s.base, int64(math.MinInt64)
			if !first {
				lo, minMs = prevSeq+1, prevMs
			}
			nextOff, nextSeq, ok := s.resync(m[:tailEnd], off, tailEnd, lo, minMs)
			if !ok {
				break
			}
			damages = append(damages, damage{off: off, end: nextOff, first: lo, last: max(lo, nextSeq-1), reason: reason})
			off, resynced, reason = nextOff, true, ""
			continue
		}
		// Existing entries must each sit on a frame boundary with its seq
		// and time; from the first that does not, the index is rebuilt.
		for next < idx.Len() && int64(idx.Entry(next).Off) < off {
			dropped += idx.Len() - next
			if err := idx.Truncate(next); err != nil {
				return err
			}
		}
		switch e := (index.Entry{Seq: r.Seq, Off: uint64(off), TimeMs: r.ArrivalMs}); {
		case next < idx.Len() && idx.Entry(next) == e:
			next++
			sinceIndex = 0
		case off == headerSize || resynced || sinceIndex >= s.opts.IndexIntervalBytes:
			// Append would have indexed this frame (or it is the first
			// after damage, where a reader must be able to start):
			// whatever the index holds from here on was not written by
			// this rule.
			dropped += idx.Len() - next
			if err := idx.Truncate(next); err != nil {
				return err
			}
			if err := idx.Append(e); err != nil && !errors.Is(err, index.ErrFull) {
				return fmt.Errorf("rebuild index: %w", err)
			}
			next = idx.Len()
			sinceIndex = 0
		}
		if first {
			firstMs = r.ArrivalMs
		}
		sinceIndex += size
		prevSeq, prevMs, first, resynced = r.Seq, r.ArrivalMs, false, false
		off += int64(size)
		records++
	}
	if next < idx.Len() { // entries pointing past the valid frames
		dropped += idx.Len() - next
		if err := idx.Truncate(next); err != nil {
			return err
		}
	}

	s.end.Store(off)
	s.sinceIndex = sinceIndex
	if !first {
		s.nextSeq.Store(prevSeq + 1)
		s.lastTimeMs.Store(prevMs)
		// A sealed scan starts at the last index entry: the first frame,
		// or if it is damaged the entry that points at it, tells the time.
		var r Record
		if size, _ := decodeFrame(m[headerSize:off], &r); size > 0 {
			firstMs = r.ArrivalMs
		} else if idx.Len() > 0 && idx.Entry(0).Off == headerSize {
			firstMs = idx.Entry(0).TimeMs
		}
		s.firstTimeMs.Store(firstMs)
	}

	// Anything non-zero after the valid frames is a torn or corrupt tail.
	tail, err := lastNonZeroIn(v.file, off, limit)
	if err != nil {
		return err
	}
	ev := s.log.Debug()
	if tail > 0 || dropped > 0 || len(damages) > 0 {
		ev = s.log.Warn()
	}
	for _, d := range damages {
		s.log.Error().Str("path", s.path).Int64("off", d.off).Int64("bytes", d.end-d.off).Uint64("seq", d.first).
			Uint64("last_seq", d.last).Str("reason", d.reason).
			Msg("corrupt records between valid frames: kept the frames after them; reads of these fail")
	}
	if tail > 0 {
		if reason == "" {
			reason = "data after the end-of-data marker"
		}
		if !active {
			// A sealed file is never written or cut: the records that were
			// there are unreadable, and reads of them say so.
			lo := s.base
			if !first {
				lo = prevSeq + 1
			}
			damages = append(damages, damage{off: off, end: off + int64(tail), first: lo, last: math.MaxUint64, reason: reason})
			s.log.Error().Str("path", s.path).Int64("off", off).Int("bytes", tail).Uint64("seq", lo).Str("reason", reason).
				Msg("sealed segment has an unreadable tail; reads of it fail")
		} else {
			cut := m[off : off+int64(tail)]
			s.cutBytes = int64(tail)
			broken := s.path + ".broken"
			if err := os.WriteFile(broken, cut, 0o644); err != nil {
				s.log.Error().Err(err).Str("path", broken).Msg("could not save the cut tail")
			}
			clear(cut)
		}
	}
	if len(damages) > 0 {
		s.damaged.Store(&damages)
	}
	ev.Str("path", s.path).Bool("active", active).Int64("off", off).Int("bytes", tail).Str("reason", reason).
		Int("dropped_index_entries", dropped).Int("scanned_records", records).Dur("took", time.Since(start)).
		Msg("recovered segment")
	return nil
}

// entryMatches reports whether e points at a valid frame with its seq and
// arrival time.
func (s *Segment) entryMatches(m []byte, e index.Entry) bool {
	if e.Off < headerSize || e.Off >= uint64(len(m)) {
		return false
	}
	var r Record
	size, _ := decodeFrame(m[e.Off:], &r)
	return size > 0 && r.Seq == e.Seq && r.ArrivalMs == e.TimeMs && r.Seq >= s.base
}

// lastNonZeroIn returns how many bytes of f from off up to limit reach its
// last non-zero byte (0 when they are all zeros). It reads with pread, not
// through the mapping: the unused, allocated end of an active file is
// checked on every open, and faulting it in would make the whole allocation
// resident for as long as the segment stays mapped.
func lastNonZeroIn(f *os.File, off, limit int64) (int, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := limit; end > off; {
		start := max(off, end-chunk)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, fmt.Errorf("read tail at %d: %w", start, err)
		}
		if n := lastNonZero(b); n > 0 {
			return int(start-off) + n, nil
		}
		end = start
	}
	return 0, nil
}

// lastNonZero returns the length of b up to and including its last non-zero
// byte (0 when b is all zeros).
func lastNonZero(b []byte) int {
	const chunk = 64 << 10
	for end := len(b); end > 0; {
		start := max(0, end-chunk)
		if !isZero(b[start:end]) {
			for i := end - 1; i >= start; i-- {
				if b[i] != 0 {
					return i + 1
				}
			}
		}
		end = start
	}
	return 0
}
