// Package index implements the sparse index of one log segment: a file of
// fixed-width entries mapping a record's position in its shard to the byte
// offset of its frame in the segment file and to its arrival time.
//
// The index is derived data. It has no checksum and can always be rebuilt by
// scanning the segment; the segment package validates the last entries
// against its frames on recovery. An entry exists for roughly every
// IndexIntervalBytes of segment data (see package segment), so a lookup
// returns the place to start a short forward scan, never the record itself.
//
// # File naming
//
// The segment package names the file <base as 20 zero-padded digits>.idx
// next to <base>.log. This package takes any path.
//
// # On-disk layout
//
// The file is an array of entries, little-endian, with no header:
//
//	off  size  field
//	 0    8    Seq     uint64  position of the indexed record
//	 8    8    Off     uint64  byte offset of its frame in the .log file (> 0)
//	16    8    TimeMs  int64   arrival time of the record, Unix milliseconds
//
// An active index is mapped for its capacity but its file has blocks
// (fallocate, never a sparse truncate) only for the first 128 entries at
// first, doubling ahead of Append; its tail is zeros. The valid length is never inferred from the file size: on
// Open, entries are read from the start while each strictly follows the
// previous one (Seq and Off increasing, TimeMs not decreasing; the first Off
// is positive because a segment file starts with a header). The first entry
// that breaks the rule, such as the all-zero tail or a torn entry, ends the
// index. Seal trims the file to exactly Len()*EntrySize bytes.
//
// # Read-only use
//
// Load reads a file into memory instead of mapping it: what recovery then
// drops or rebuilds changes the copy only, and Modified tells whether the
// file needed it. Offline tools (fsck, inspect) use it so that looking at a
// data directory never writes to it.
//
// # Concurrency
//
// One writer at a time (Append, Truncate, Seal). Len, Entry, Last, LookupSeq
// and LookupTime may run concurrently with Append: Append writes the entry
// bytes first and then publishes the new length with an atomic store, so a
// reader never sees a partly written entry. Truncate, Close and Remove need
// the caller to exclude readers.
//
// # Durability
//
// After Append returns, the entry survives kill -9 (it is in the page cache
// through the shared mapping); after Sync it survives power loss. A crash
// may lose the newest entries or leave them pointing past the data that
// reached the disk; the segment package checks for this on recovery.
//
// # What it does not do
//
// It does not know about records, frames or compression, it does not grow
// (Append returns ErrFull, and the segment simply indexes more sparsely), and
// it does not lock: callers serialise writers.
package index
