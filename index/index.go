package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync/atomic"

	"github.com/tysonmote/gommap"

	"github.com/shardlog/shardlog/index/durable"
)

// EntrySize is the size in bytes of one encoded Entry.
const EntrySize = 24

// Entry is one sparse index entry: the record at position Seq
// starts at byte offset Off of the segment file and arrived at TimeMs.
type Entry struct {
	Seq    uint64 // position of the indexed record in its shard
	Off    uint64 // byte offset of its frame in the segment file; never 0
	TimeMs int64  // its arrival time, Unix milliseconds
}

// Index is one memory-mapped sparse index file.
//
// One goroutine at a time may write (Append, Truncate, Seal); Len, Entry,
// Last, LookupSeq and LookupTime are safe concurrently with Append because
// the length is published with an atomic store after the entry is written.
// Truncate, Close and Remove need the caller to exclude readers.
type Index struct {
	path     string
	mapping  gommap.MMap // capacity*EntrySize bytes; nil when capacity is 0
	capacity int         // entries the mapping has room for
	// allocated is how many entries the file has blocks for; the mapping
	// past it lies beyond the end of the file and is never touched. It
	// grows by doubling as entries are appended (writer-owned).
	allocated int
	length    atomic.Int64 // valid entries; published after the entry bytes are written
	sealed    bool
	closed    bool
	// onDisk is the file's content when the index was loaded into memory
	// (Load); nil for an index opened with Open, whose mapping is the file.
	onDisk []byte
	loaded bool
}

// Open opens the index file at path, creating it if needed, and maps room
// for capacity entries read-write. Blocks are allocated (fallocate, not a
// sparse truncate) for the first initialEntries at once and then by
// doubling ahead of Append, so that an idle index costs little disk and a
// full disk shows up as an error from Append, never as SIGBUS. An existing
// larger file keeps its size.
//
// The number of valid entries is never taken from the file size: entries
// are read from the start while each one strictly follows the previous
// (Seq and Off increasing, TimeMs not decreasing, first Off > 0), so the
// zero tail of a pre-sized file or a torn entry ends the index.
func Open(path string, capacity int) (*Index, error) {
	if capacity < 0 {
		return nil, fmt.Errorf("open index %s: negative capacity %d", path, capacity)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	x, err := open(f, path, capacity)
	if cerr := f.Close(); err == nil && cerr != nil { // the mapping needs no descriptor
		_ = x.mapping.UnsafeUnmap()
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return x, nil
}

func open(f *os.File, path string, capacity int) (*Index, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	allocated := int(fi.Size() / EntrySize)
	if allocated >= capacity {
		capacity = allocated
	} else if first := min(capacity, initialEntries); allocated < first {
		// Not synced: the index is derived data, and an allocation lost
		// to power loss is made again by the next Open.
		if err := durable.Allocate(f, int64(first)*EntrySize); err != nil {
			return nil, err
		}
		allocated = first
	}
	x := &Index{path: path, capacity: capacity, allocated: allocated}
	if capacity > 0 {
		x.mapping, err = gommap.MapRegion(f.Fd(), 0, int64(capacity)*EntrySize,
			gommap.PROT_READ|gommap.PROT_WRITE, gommap.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("mmap: %w", err)
		}
	}
	x.length.Store(int64(x.scanValid()))
	return x, nil
}

// withFile opens the index file read-write for one operation and closes it
// again: the mapping stays valid without its descriptor, so an open index
// holds none between operations.
func (x *Index) withFile(op func(f *os.File) error) error {
	f, err := os.OpenFile(x.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = op(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Load reads the index file at path into memory and never writes to it:
// the file is opened read-only, no mapping is shared with it, and Truncate,
// Append and Seal change only the copy in memory, which has room for
// capacity entries (or the file's, if more). A missing file loads as an
// empty index. It is how a read-only tool repairs an index the way Open
// would, without touching the file, and then asks Modified whether the
// file needed it.
func Load(path string, capacity int) (*Index, error) {
	if capacity < 0 {
		return nil, fmt.Errorf("load index %s: negative capacity %d", path, capacity)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load index %s: %w", path, err)
	}
	n := len(data) / EntrySize
	capacity = max(capacity, n)
	mem := make([]byte, capacity*EntrySize)
	copy(mem, data[:n*EntrySize])
	x := &Index{path: path, mapping: mem, capacity: capacity, allocated: capacity, onDisk: data, loaded: true}
	x.length.Store(int64(x.scanValid()))
	return x, nil
}

// Modified reports whether an index read by Load now holds other entries
// than its file: entries were dropped, changed or added, or the file has
// bytes other than zeros after its valid entries (the unused end of a
// pre-sized file is zeros and does not count). It is false for an index
// opened with Open.
func (x *Index) Modified() bool {
	if !x.loaded {
		return false
	}
	now := x.mapping[:x.Len()*EntrySize]
	n := min(len(x.onDisk), len(now))
	return !bytes.Equal(x.onDisk[:n], now[:n]) || !allZero(x.onDisk[n:]) || !allZero(now[n:])
}

func allZero(b []byte) bool { return len(bytes.TrimRight(b, "\x00")) == 0 }

// initialEntries is how many entries a new index file has blocks for.
const initialEntries = 128

// grow allocates blocks for at least one more entry, doubling the file up
// to capacity.
func (x *Index) grow() error {
	next := min(x.capacity, max(2*x.allocated, initialEntries))
	allocate := func(f *os.File) error { return durable.Allocate(f, int64(next)*EntrySize) }
	if err := x.withFile(allocate); err != nil {
		return err
	}
	x.allocated = next
	return nil
}

// scanValid counts the leading entries that strictly follow each other.
func (x *Index) scanValid() int {
	var prev Entry
	for i := 0; i < x.allocated; i++ {
		e := x.entry(i)
		if !follows(prev, e, i == 0) {
			return i
		}
		prev = e
	}
	return x.allocated
}

// follows reports whether e may come right after prev (or first).
func follows(prev, e Entry, first bool) bool {
	if first {
		return e.Off > 0
	}
	return e.Seq > prev.Seq && e.Off > prev.Off && e.TimeMs >= prev.TimeMs
}

func (x *Index) entry(i int) Entry {
	b := x.mapping[i*EntrySize : (i+1)*EntrySize : (i+1)*EntrySize]
	return Entry{
		Seq:    binary.LittleEndian.Uint64(b[0:8]),
		Off:    binary.LittleEndian.Uint64(b[8:16]),
		TimeMs: int64(binary.LittleEndian.Uint64(b[16:24])),
	}
}

// Path returns the file name the index was opened with.
func (x *Index) Path() string { return x.path }

// Cap returns how many entries the file has room for.
func (x *Index) Cap() int { return x.capacity }

// Len returns the number of valid entries. Safe concurrently with Append.
func (x *Index) Len() int { return int(x.length.Load()) }

// Entry returns entry i, which must be below Len. Safe concurrently with
// Append.
func (x *Index) Entry(i int) Entry {
	if i < 0 || i >= x.Len() {
		panic(fmt.Sprintf("BUG: index entry %d out of range [0,%d)", i, x.Len()))
	}
	return x.entry(i)
}

// Last returns the last valid entry, or ok=false when the index is empty.
// Safe concurrently with Append.
func (x *Index) Last() (e Entry, ok bool) {
	n := x.Len()
	if n == 0 {
		return Entry{}, false
	}
	return x.entry(n - 1), true
}

// Append writes e after the last entry and then publishes it. It returns
// ErrOutOfOrder if e does not strictly follow the last entry, ErrFull when
// there is no room, and leaves the index unchanged on any error.
//
// After Append returns the entry survives kill -9 (it is in the page cache
// through the shared mapping); after Sync it survives power loss.
func (x *Index) Append(e Entry) error {
	if err := x.writable(); err != nil {
		return err
	}
	n := x.Len()
	var prev Entry
	if n > 0 {
		prev = x.entry(n - 1)
	}
	if !follows(prev, e, n == 0) {
		return ErrOutOfOrder
	}
	if n == x.capacity {
		return ErrFull
	}
	if n == x.allocated {
		if err := x.grow(); err != nil {
			return fmt.Errorf("%w: cannot grow %s: %w", ErrFull, x.path, err)
		}
	}
	b := x.mapping[n*EntrySize : (n+1)*EntrySize : (n+1)*EntrySize]
	binary.LittleEndian.PutUint64(b[0:8], e.Seq)
	binary.LittleEndian.PutUint64(b[8:16], e.Off)
	binary.LittleEndian.PutUint64(b[16:24], uint64(e.TimeMs))
	x.length.Store(int64(n + 1))
	return nil
}

func (x *Index) writable() error {
	switch {
	case x.closed:
		return ErrClosed
	case x.sealed:
		return ErrSealed
	}
	return nil
}

// LookupSeq returns the greatest entry with Seq <= seq, or ok=false when
// every entry is greater (scan from the start of the segment). O(log n);
// safe concurrently with Append.
func (x *Index) LookupSeq(seq uint64) (e Entry, ok bool) {
	n := x.Len()
	i := sort.Search(n, func(i int) bool {
		return binary.LittleEndian.Uint64(x.mapping[i*EntrySize:]) > seq
	})
	if i == 0 {
		return Entry{}, false
	}
	return x.entry(i - 1), true
}

// LookupTime returns the greatest entry with TimeMs < ms, so that a forward
// scan from it finds the first record with a time >= ms; ok=false when there
// is none (scan from the start of the segment). O(log n); safe concurrently
// with Append.
func (x *Index) LookupTime(ms int64) (e Entry, ok bool) {
	n := x.Len()
	i := sort.Search(n, func(i int) bool {
		return int64(binary.LittleEndian.Uint64(x.mapping[i*EntrySize+16:])) >= ms
	})
	if i == 0 {
		return Entry{}, false
	}
	return x.entry(i - 1), true
}

// Truncate keeps the first n entries and zeroes the rest, so that a later
// open cannot read them back. It is a recovery tool: the caller must exclude
// concurrent readers.
func (x *Index) Truncate(n int) error {
	if err := x.writable(); err != nil {
		return err
	}
	old := x.Len()
	if n < 0 || n > old {
		return fmt.Errorf("truncate index %s to %d entries: have %d", x.path, n, old)
	}
	x.length.Store(int64(n))
	clear(x.mapping[n*EntrySize : old*EntrySize])
	return nil
}

// Sync flushes the mapping to disk (msync MS_SYNC); for an index read by
// Load it does nothing. Safe concurrently with Append and lookups; entries
// appended during Sync may or may not be flushed.
func (x *Index) Sync() error {
	if x.closed {
		return ErrClosed
	}
	n := x.Len()
	if x.mapping == nil || n == 0 || x.loaded {
		return nil
	}
	// Only the published entries: the mapping may reach past the file's end.
	if err := x.mapping[:n*EntrySize].Sync(gommap.MS_SYNC); err != nil {
		return fmt.Errorf("msync index %s: %w", x.path, err)
	}
	return nil
}

// Seal flushes the index, trims the file to its valid entries and makes the
// mapping read-only; later Appends and Truncates return ErrSealed. Lookups
// keep working. An index read by Load is only marked sealed. Not safe
// concurrently with Append.
func (x *Index) Seal() error {
	if x.closed {
		return ErrClosed
	}
	if x.sealed {
		return nil
	}
	if x.loaded {
		x.sealed = true
		return nil
	}
	if err := x.Sync(); err != nil {
		return err
	}
	// Pages past the new end stay mapped but are never read: every access
	// is below Len.
	err := x.withFile(func(f *os.File) error {
		if err := f.Truncate(int64(x.Len()) * EntrySize); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal index %s: %w", x.path, err)
	}
	if x.mapping != nil {
		if err := x.mapping.Protect(gommap.PROT_READ); err != nil {
			return fmt.Errorf("seal index %s: mprotect: %w", x.path, err)
		}
	}
	x.sealed = true
	return nil
}

// Sealed reports whether Seal has been called.
func (x *Index) Sealed() bool { return x.sealed }

// Close unmaps and closes the file without flushing (the page cache keeps
// the data; call Sync first for power-loss durability). No method but Len
// may be called afterwards and no reader may still be using the index.
func (x *Index) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	if x.loaded {
		x.mapping = nil
		return nil
	}
	var errs []error
	if x.mapping != nil {
		if err := x.mapping.UnsafeUnmap(); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
		x.mapping = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close index %s: %w", x.path, err)
	}
	return nil
}

// Remove closes the index and deletes its file. The caller fsyncs the
// directory if the removal must be durable. An index read by Load is only
// closed: its file is never written.
func (x *Index) Remove() error {
	if err := x.Close(); err != nil || x.loaded {
		return err
	}
	if err := os.Remove(x.path); err != nil {
		return fmt.Errorf("remove index: %w", err)
	}
	return nil
}
