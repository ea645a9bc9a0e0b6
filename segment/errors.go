package segment

import (
	"errors"
	"fmt"
	"math"
)

// Errors returned by Append.
var (
	// ErrTooLarge is returned by Append, before anything is written, when a
	// record's data exceeds MaxDataBytes or its partition key or explicit
	// hash key exceeds the frame's length fields. (A frame larger than
	// Options.MaxSegmentBytes is not an error: it gets a segment of its own.)
	ErrTooLarge = errors.New("segment: record too large")

	// ErrNoSpace is returned by Append when the file cannot be given blocks
	// for the next frame (a full disk). Nothing was written; the segment
	// stays usable and a later Append may succeed once space is freed.
	ErrNoSpace = errors.New("segment: no space to grow the file")

	// ErrOutOfOrder is returned by Append, before anything is written, when a
	// record's Seq is not greater than the previous record's (or below the
	// segment's base), or its ArrivalMs is smaller than the previous one's.
	ErrOutOfOrder = errors.New("segment: record out of order")

	// ErrSealed is returned by Append after Seal, and by Open with
	// active=true for a compressed (read-only by format) segment.
	ErrSealed = errors.New("segment: sealed")
)

// Errors returned by any method once the segment changed state.
var (
	// ErrClosed is returned by Append, Read, SeekTime, Sync, Seal and Compress
	// after Close or after the last reference of a retired segment was
	// released.
	ErrClosed = errors.New("segment: closed")

	// ErrNotSealed is returned by Compress on an active segment.
	ErrNotSealed = errors.New("segment: not sealed")

	// ErrReadOnly is returned by Compress on a segment opened with
	// OpenReadOnly, which never writes to its files.
	ErrReadOnly = errors.New("segment: opened read-only")
)

// Errors returned by Open.
var (
	// ErrVersion is returned by Open when the file header names a format
	// version or an incompatible feature flag this code does not know: the
	// file was written by a newer shardlog and must not be read (or, worse,
	// appended to) by this one.
	ErrVersion = errors.New("segment: unsupported format version")

	// ErrBadHeader is returned by Open when the file is too short for a
	// header, its magic or header checksum is wrong, or it names another
	// base than its file name.
	ErrBadHeader = errors.New("segment: bad file header")
)

// CorruptError is returned, wrapped, by Read, SeekTime and Compress when a
// frame (or compressed block) fails its checksum or its lengths do not add
// up. The bytes are never returned. Match it with errors.As.
//
// For a plain segment it also names the records the bad bytes held: those
// with seqs from Seq through LastSeq, as the valid frames around the damage
// bound them (the frame before it, or the index entry pointing at it, and
// the first valid frame after it). LastSeq is math.MaxUint64 when no valid
// frame follows in the segment. A reader moves past the damage by reading
// from LastSeq+1.
type CorruptError struct {
	Path   string // the .log file
	Off    int64  // byte offset of the bad frame or block
	Reason string // what was wrong, e.g. "crc mismatch"

	SeqKnown bool   // Seq and LastSeq are set
	Seq      uint64 // first seq the damage may hold
	LastSeq  uint64 // last seq it may hold; math.MaxUint64: to the end of the segment
}

func (e *CorruptError) Error() string {
	if !e.SeqKnown {
		return fmt.Sprintf("segment: corrupt data in %s at offset %d: %s", e.Path, e.Off, e.Reason)
	}
	if e.LastSeq == math.MaxUint64 {
		return fmt.Sprintf("segment: corrupt data in %s at offset %d (seq %d to the end of the segment): %s", e.Path, e.Off, e.Seq, e.Reason)
	}
	return fmt.Sprintf("segment: corrupt data in %s at offset %d (seq %d through %d): %s", e.Path, e.Off, e.Seq, e.LastSeq, e.Reason)
}
