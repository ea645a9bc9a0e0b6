package segment

import (
	"time"

	"github.com/rs/zerolog"
)

// Compression names the block codec Compress uses for sealed segments.
type Compression uint8

// Codecs for Options.Compression. The value is stored in the file header of
// compressed segments, so never renumber them.
const (
	None Compression = iota // keep sealed segments as plain frames
	Zstd                    // klauspost/compress zstd, default level
	S2                      // klauspost/compress s2 (Snappy-compatible block format, faster, larger)
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Zstd:
		return "zstd"
	case S2:
		return "s2"
	}
	return "unknown"
}

// FaultInjector lets tests fail operations at a narrow seam, and lets the
// crash-point tests kill the process between any two durable steps. Fault
// is called with op "create", "append", "sync", "seal", "reserve" or
// "compress" at the start of the operation, and before each durable step
// inside one: "create-allocate", "create-fsync",
// "create-rename", "create-dirsync", "grow" (allocating more of the
// file ahead of an append), "seal-truncate", "seal-fsync", "seal-index" and
// "remove" (unlinking a retired segment). A non-nil error
// makes the operation fail with it, wrapped (a failure inside a seal is
// sticky, as a real one is). Owners that share the injector (package
// shard) call it at their own steps too. Production code leaves
// Options.Faults nil.
type FaultInjector interface {
	Fault(op string) error
}

// Options configures a segment. The zero value of a field means its default.
type Options struct {
	// MaxSegmentBytes is the size of an active segment's pre-allocated file,
	// header included, in bytes: a segment rolls when the next frame would
	// pass it. Default 64 MiB. A frame too large for an empty segment of
	// this size (a 10 MiB record in 2 MiB segments) is still accepted as
	// the segment's only frame: that one file grows to hold it.
	MaxSegmentBytes int64

	// IndexIntervalBytes is the number of bytes of frames between two sparse
	// index entries. Default 4096.
	IndexIntervalBytes int

	// InitialBytes is how much of a new segment file gets blocks at
	// creation; Append then doubles the allocation ahead of the frames
	// until 1 MiB, and then allocates the rest up to MaxSegmentBytes. Default 16 KiB: a shard written once costs that much
	// disk, not a whole segment.
	InitialBytes int64

	// Files bounds the descriptors active segments keep open for writing;
	// a store shares one among its segments. Nil opens the file for each
	// write and closes it again.
	Files *Files

	// Compression is the codec Compress rewrites sealed segments with;
	// None (the default) makes Compress a no-op.
	Compression Compression

	// Logger receives open/recover, seal, compress and retire events. The
	// zero value discards them.
	Logger zerolog.Logger

	// Faults injects errors in tests; nil in production.
	Faults FaultInjector

	// Now is the clock for the creation time in new headers, the owner's
	// clock (its records' arrival times come from it too). Default
	// time.Now; tests fix it to make files byte-identical.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxSegmentBytes    = 64 << 20
	DefaultIndexIntervalBytes = 4096
	DefaultInitialBytes       = 16 << 10
)

// DefaultOptions returns the defaults: 64 MiB segments, an index entry every
// 4 KiB, no compression, a discarding logger.
func DefaultOptions() Options {
	return Options{
		MaxSegmentBytes:    DefaultMaxSegmentBytes,
		IndexIntervalBytes: DefaultIndexIntervalBytes,
	}
}

func (o Options) withDefaults() Options {
	if o.MaxSegmentBytes <= 0 {
		o.MaxSegmentBytes = DefaultMaxSegmentBytes
	}
	if o.IndexIntervalBytes <= 0 {
		o.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if o.InitialBytes <= 0 {
		o.InitialBytes = DefaultInitialBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// capacity is the size an active segment is mapped at: MaxSegmentBytes, or
// more if that cannot hold a header and the largest frame, which then fits
// as the first frame of an empty segment (Append). Only what frames use
// gets disk blocks.
func (o Options) capacity() int64 { return max(o.MaxSegmentBytes, headerSize+MaxFrameBytes) }

// indexCapacity is the number of entries an active segment's index needs:
// one for the first frame plus one per full interval.
func (o Options) indexCapacity() int {
	return int(o.MaxSegmentBytes/int64(o.IndexIntervalBytes)) + 1
}

func (o Options) fault(op string) error {
	if o.Faults == nil {
		return nil
	}
	return o.Faults.Fault(op)
}
