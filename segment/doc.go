// Package segment stores the records of one shard position range in one
// memory-mapped data file, allocated ahead of its writer, with a sparse index (package
// index): framing with CRC-32C, batched appends written with one pwrite,
// reads by seq or arrival time, crash recovery of a torn tail, sealing,
// optional block compression of sealed segments, and a read-only open and
// check for offline tools. A record's seq is its position in its shard, a
// uint64 the owner assigns; the decimal sequence numbers clients see are
// package shard's business.
//
// # File naming
//
// A segment with base b (the first seq it may hold) is the pair
// <b as %020d>.log and <b as %020d>.idx in one directory, so names sort
// in seq order. Compress writes <name>.tmp files and renames them; List
// removes stray .tmp files. Recovery saves the bytes it cuts from a torn
// tail as <b>.log.broken for forensics.
//
// # On-disk layout
//
// All integers are little-endian. The file starts with a 64-byte header:
//
//	off  size  field
//	 0    8    magic      "SHLGSEG\x00"
//	 8    4    version    uint32 = 1; any other value is refused (ErrVersion)
//	12    4    flags      uint32 incompatible features; unknown bits are refused (ErrVersion)
//	                      bit 0: compressed, blocks follow instead of frames
//	16    8    base       uint64, must match the file name
//	24    8    created    int64 Unix nanoseconds (CreatedAt)
//	32    1    codec      0 none, 1 zstd, 2 s2; non-zero exactly when bit 0 is set
//	33    7    reserved   0
//	40    8    nextSeq    uint64: compressed files, last seq + 1; plain files, the
//	                      reservation: no position at or above it was handed out
//	                      while the file was active (0: not recorded, older builds)
//	48    8    lastMs     int64 newest arrival: compressed files, and plain files
//	                      once sealed (0: not yet sealed, or sealed by an older build)
//	56    4    reserved   0
//	60    4    crc        CRC-32C (Castagnoli) of bytes [0, 60)
//
// A plain file continues with frames, one per record, back to back:
//
//	off  size  field
//	 0    4    size       uint32 whole frame incl. this word; 0 = end of data
//	 4    4    crc        CRC-32C of bytes [8, size)
//	 8    8    seq        uint64
//	16    8    arrival    int64 Unix milliseconds
//	24    2    pkLen      uint16 partition key bytes
//	26    1    ehkLen     uint8 explicit hash key bytes, 0 when absent
//	27    1    reserved   0
//	28    4    dataLen    uint32 (at most MaxDataBytes = 10 MiB)
//	32    ...  partition key, explicit hash key, data
//
// size must equal 32 + pkLen + ehkLen + dataLen. An active file is mapped
// at MaxSegmentBytes, or at a header plus the largest frame if that is more;
// its blocks are allocated with fallocate (zeros, never a sparse hole)
// InitialBytes (16 KiB) at creation and then by doubling, ahead of the
// frames, until 1 MiB and then up to MaxSegmentBytes in one step, so the word after the last frame is zero, a
// full disk is an error from Append rather than a SIGBUS, and disk follows
// written data: a segment that holds one record costs 16 KiB. A file of any
// size from a header up is valid, so files written by builds that
// allocated more at once (1 MiB, or the whole segment) open unchanged and
// the format version stays 1. The data and index files are closed once
// mapped and reopened only to grow or seal them: an open segment holds no
// file descriptor.
// Frames fill a file up to MaxSegmentBytes, except that a frame larger than
// that is accepted as the first of an empty file, which then holds only it
// and grows to its size: a 10 MiB record fits with 2 MiB segments. Nothing
// in the format or in recovery depends on the configured size: a file is
// read up to its own length, and a larger-than-configured active file is
// full, so the next append rolls. A sealed file is trimmed to the end of
// its last frame.
//
// A compressed file continues with blocks, each holding whole v1 frames
// (CRCs included) compressed together, about 128 KiB of frames per block:
//
//	off  size  field
//	 0    4    size       uint32 whole block incl. this word
//	 4    4    crc        CRC-32C of bytes [8, size)
//	 8    4    rawLen     uint32 bytes of frames after decompression
//	12    4    records    uint32 frames in the block
//	16    8    firstSeq   uint64
//	24    8    firstMs    int64 arrival of the first frame
//	32    ...  compressed frames (zstd or s2, per the header's codec)
//
// The index of a plain segment has an entry for the first frame and then for
// the first frame after every IndexIntervalBytes of frames; the index of a
// compressed segment has one entry per block (Off = the block's offset).
// testdata/golden holds a v1 segment; TestGolden fails on any format change.
//
// # Concurrency
//
// One owner goroutine appends, seals, compresses and closes. Read, SeekTime,
// NextSeq, Size, LastTimeMs and Sync are safe concurrently with Append:
// Append encodes its frames into a buffer, writes them to the file (pwrite;
// the mapping shows the same page cache) and then publishes the new end
// with an atomic store, and readers never look past the end they loaded.
// Writes go through a descriptor kept for the recently written segments
// (Files), not through the mapping: see Files for the cost that avoids.
// Sync may be called from a group-commit goroutine while Append runs.
//
// Slices returned by Read alias the mapping. A reader takes a reference with
// Acquire before reading and calls Release once it no longer needs the
// slices; the owner's Retire drops the owner's reference, and the last
// reference unmaps the file (and unlinks it if asked). Acquire fails after
// that, telling the caller to reload its segment list. Compress swaps in a
// new mapping; the old one is unmapped only when no reader reference is
// left, so slices taken before Compress stay valid.
//
// # Durability
//
// After Append returns, the frames survive kill -9: they are in the page
// cache. After Sync (msync MS_SYNC of the new
// data, then of the index) they survive power loss. Create and Seal fsync
// the files and Create fsyncs the directory; Compress writes a temporary
// file, fsyncs it, renames it over the old one and fsyncs the directory.
// A failed msync or fsync is sticky: Append and Sync keep returning it until
// the segment is reopened.
//
// Opening an active segment (Open with active=true) scans every frame with
// its CRC. At a torn, corrupt or out-of-order frame it looks for a valid
// frame after it (following the frame sizes, then byte by byte). If one
// follows, the bad bytes are corruption, not a tail: they stay as they are,
// the frames after them are kept, and reads of them fail. Otherwise they are
// a torn tail: recovery saves and zeroes everything non-zero from there (so
// a later scan cannot resurrect old frames). It then repairs the index,
// which may lag the data or, after power loss, point past it. Sealed
// segments are trusted on open (only the frames after the last index entry
// are scanned), their data files are never cut or written (a damaged index
// is rebuilt), and every frame is CRC-checked on
// read; a bad one is a *CorruptError naming the seqs it held, never bad
// bytes, and a read from after those seqs resumes at the next valid frame.
//
// # Read-only use
//
// OpenReadOnly opens a segment as a sealed one, but opens the data file
// O_RDONLY, maps it PROT_READ and reads the index into memory (package
// index, Load), so nothing it recovers reaches the disk: a torn tail is
// reported, not cut, and an index that does not match the frames is
// rebuilt in memory (IndexRepaired). Check reads a whole segment that way
// and returns its Damage: unreadable records, bad frames, a torn tail, an
// index mismatch, a file that cannot be opened (bad header, unknown
// format version); Unfinished tells an interrupted roll; Bases lists a
// directory without tidying it. fsck and inspect are built on these.
//
// # Performance
//
// Measured on the 2-core development VM (go test -bench, default options,
// rolling to a new 64 MiB segment when full, seal and fsync included):
//
//	Append 500 x 100 B records    ~5.2 M records/s, 518 MB/s, 0 allocs/record
//	Append 500 x 1 KiB records    ~0.82 M records/s, 840 MB/s
//	Append 64 KiB records         0.91-0.96 GB/s (about 40% of it is the roll:
//	                              msync+fsync at seal, fallocate, munmap, unlink)
//	Read sequential, 1 KiB        ~18 GB/s of record data (slices, no copy)
//
// Compression of JSON records such as
// {"name":"Alice","age":34,"gender":"F","score":87.5,"job":"engineer"}
// with varied values (100,000 records, random user-N partition keys):
//
//	codec  file ratio  read, MB/s of data  per record
//	none   1.00        2480                 26 ns
//	zstd   4.48         564                116 ns
//	s2     2.99         775                 85 ns
//
// # What it does not do
//
// It does not assign positions, route records, enforce retention or
// decide when to roll (package shard does), and it knows nothing of the
// Kinesis wire format. It does not fsync on its own: durability beyond
// kill -9 is the caller's Sync. It never grows a file: a full segment makes
// Append write fewer records, and the caller rolls.
package segment
