package segment

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tysonmote/gommap"

	"github.com/shardlog/shardlog/index"
	"github.com/shardlog/shardlog/index/durable"
)

// Record is one record as stored in a segment. Records returned by Read
// alias the segment's mapping (or a shared decompressed buffer) and must not
// be modified; they stay valid while the caller holds a reference (Acquire).
type Record struct {
	Seq             uint64 // set by the caller before Append; strictly increasing
	ArrivalMs       int64  // set by the caller, Unix milliseconds; non-decreasing
	PartitionKey    []byte
	ExplicitHashKey []byte // nil when absent
	Data            []byte
}

// Segment is one data file <base>.log and its sparse index <base>.idx.
//
// Append, Seal, Compress and Close are called by one owner goroutine at a
// time. Read, SeekTime, Sync and the getters are safe concurrently with
// Append: readers only look below the end that Append publishes with an
// atomic store after writing its frames. Readers that keep returned slices
// hold a reference (Acquire/Release) so the mapping outlives them.
type Segment struct {
	dir     string
	path    string // the .log file
	idxPath string
	base    uint64
	opts    Options
	log     zerolog.Logger
	created time.Time
	// readOnly segments (OpenReadOnly) never write to their files.
	readOnly bool
	// tmp is the temporary name Create builds the data file under.
	tmp string

	cur   atomic.Pointer[view]  // mapping readers use; nil after the last unmap
	cache atomic.Pointer[block] // last decompressed block (compressed views only)

	end         atomic.Int64  // bytes of valid frames incl. header; frames below it are complete (plain view)
	nextSeq     atomic.Uint64 // last seq + 1, or base when empty
	firstTimeMs atomic.Int64
	lastTimeMs  atomic.Int64
	sealed      atomic.Bool

	// cutBytes is how much torn or corrupt tail recovery cut (active only).
	cutBytes int64
	// damaged lists the known bad regions, sorted by offset (damage.go);
	// nil when none is known. Copied on write under mu, read without a lock.
	damaged atomic.Pointer[[]damage]

	// reserved is the reservation in the header: positions below it may
	// have been handed out while the segment was active. 0 when a file of
	// an older build did not record one. Owned by the Append caller.
	reserved uint64

	// Writer state, owned by the Append caller.
	allocated  int64         // bytes of the file with blocks; the mapping past it is beyond EOF
	sinceIndex int           // bytes of frames since the last index entry
	pending    []index.Entry // index entries of the current batch, reused

	// wmu serialises writes to the data file and guards wf, the descriptor
	// kept for them (nil when closed), and welem, its place in
	// opts.Files. See Files and withFile.
	wmu   sync.Mutex
	wf    *os.File
	welem *list.Element

	mu     sync.Mutex            // serialises Sync, Seal, Compress, Close and view swaps
	synced int64                 // data bytes known to be synced (msync, or MarkSynced); under mu
	failed atomic.Pointer[error] // sticky: a failed msync/fsync; Append and Sync return it
	closed atomic.Bool

	refs    atomic.Int64 // owner's reference + readers'; 0 = unmapped
	retired atomic.Bool
	remove  atomic.Bool // unlink the files when refs reaches 0
	old     []*view     // views replaced by Compress, unmapped when no reader remains; under mu
	hasOld  atomic.Bool // len(old) > 0; set under mu
}

// view is one mapping of the data file with its index. Compress replaces the
// plain view by a compressed one; readers that loaded the old view keep
// using it until they release their reference.
type view struct {
	file       *os.File    // open only while the view is built (dropFile); nil after
	mapping    gommap.MMap // RW and file-sized for active segments, RO otherwise
	idx        *index.Index
	compressed bool
	codec      Compression
}

func (v *view) close() error {
	var errs []error
	if v.mapping != nil {
		if err := v.mapping.UnsafeUnmap(); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
	}
	if v.file != nil {
		if err := v.file.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := v.idx.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dropFile closes the data file once the view is mapped: a mapping needs
// no descriptor, so an open segment holds none (see Segment.withFile).
func (v *view) dropFile() error {
	f := v.file
	v.file = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("close data file: %w", err)
	}
	return nil
}

// Name returns the data file name of the segment with that base.
func Name(base uint64) string { return fmt.Sprintf("%020d.log", base) }

// IndexName returns the index file name of the segment with that base.
func IndexName(base uint64) string { return fmt.Sprintf("%020d.idx", base) }

func newSegment(dir string, base uint64, opts Options) *Segment {
	opts = opts.withDefaults()
	s := &Segment{
		dir:     dir,
		path:    filepath.Join(dir, Name(base)),
		idxPath: filepath.Join(dir, IndexName(base)),
		base:    base,
		opts:    opts,
	}
	s.log = opts.Logger.With().Str("component", "segment").Uint64("base", base).Logger()
	s.nextSeq.Store(base)
	s.refs.Store(1)
	return s
}

// Create creates a new active segment in dir: it maps MaxSegmentBytes (or
// the larger capacity, see Options.MaxSegmentBytes) read-write but gives the file blocks (fallocate, never a sparse truncate)
// only for its first InitialBytes; Append allocates more ahead of the
// frames it writes, so a full disk is an error from Create or Append, never
// a SIGBUS, and an idle shard costs little disk.
//
// The file is built under a temporary name (<base>.log.tmp, which List
// removes): sized, its header written and synced, and only then renamed to
// <base>.log and the directory synced. A crash at any point therefore leaves
// either no segment with that base or a complete, empty one, never a short
// file under a segment's name. A leftover index without a data file is
// replaced.
//
// reserve is the segment's first reservation (see Reserve): the owner may
// hand out positions below it before it reserves more; it is made durable
// with the header, at no extra cost. Below base it means base.
func Create(dir string, base, reserve uint64, opts Options) (*Segment, error) {
	s := newSegment(dir, base, opts)
	s.reserved = max(reserve, base)
	if err := s.build(); err != nil {
		return nil, fmt.Errorf("create segment %s: %w", s.path, err)
	}
	if err := s.name(); err != nil {
		return nil, err
	}
	return s, nil
}

// nameFree returns an error unless no file has the segment's name.
func (s *Segment) nameFree() error {
	if _, err := os.Lstat(s.path); !errors.Is(err, os.ErrNotExist) {
		if err == nil {
			err = os.ErrExist
		}
		return err
	}
	return nil
}

// openNewIndex replaces any leftover index file of the segment's base with
// an empty one. Without its data file List removes it, and the directory
// sync in name makes both names durable together.
func (s *Segment) openNewIndex(v *view) (err error) {
	if err := os.Remove(s.idxPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale index: %w", err)
	}
	v.idx, err = index.Open(s.idxPath, s.opts.indexCapacity())
	return err
}

// build creates, allocates, maps and syncs the data file with its header
// under a temporary name, and opens the index.
func (s *Segment) build() (err error) {
	if err := s.opts.fault("create"); err != nil {
		return err
	}
	if err := s.nameFree(); err != nil {
		return err
	}
	s.tmp = s.path + ".tmp"
	f, err := os.OpenFile(s.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	v := &view{file: f}
	defer func() {
		if err != nil {
			if v.mapping != nil {
				_ = v.mapping.UnsafeUnmap()
			}
			if v.idx != nil {
				_ = v.idx.Remove()
			}
			if v.file != nil {
				_ = f.Close()
			}
			_ = os.Remove(s.tmp)
		}
	}()
	first := min(s.opts.InitialBytes, s.opts.MaxSegmentBytes)
	if err := s.opts.fault("create-allocate"); err != nil {
		return err
	}
	if err := durable.Allocate(f, first); err != nil {
		return err
	}
	s.allocated = first
	s.created = s.opts.Now()
	var hb [headerSize]byte
	h := header{base: s.base, createdNs: s.created.UnixNano(), nextSeq: s.reserved}
	h.put(hb[:])
	// Written with pwrite and made durable with the allocation by one fsync.
	if _, err := f.WriteAt(hb[:], 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if v.mapping, err = mapFile(f, s.opts.capacity(), true); err != nil {
		return err
	}
	if err := s.opts.fault("create-fsync"); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	if err := s.openNewIndex(v); err != nil {
		return err
	}
	if err := v.dropFile(); err != nil {
		return err
	}
	s.end.Store(headerSize)
	s.synced = headerSize
	s.cur.Store(v)
	return nil
}

// name renames the built file to the segment's name and syncs the
// directory. On failure the files are removed.
func (s *Segment) name() (err error) {
	renamed := false
	defer func() {
		if err != nil {
			if renamed {
				_ = s.unbuild(s.path)
			} else {
				_ = s.unbuild(s.tmp)
			}
			err = fmt.Errorf("create segment %s: %w", s.path, err)
		}
	}()
	if err := s.opts.fault("create-rename"); err != nil {
		return err
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		return err
	}
	renamed = true
	if err := s.opts.fault("create-dirsync"); err != nil {
		return err
	}
	if err := durable.SyncDir(s.dir); err != nil {
		return err
	}
	s.log.Debug().Str("path", s.path).Msg("created segment")
	return nil
}

// unbuild undoes build: it unmaps the file, removes the index if one was
// opened and the data file at path, and closes the segment.
func (s *Segment) unbuild(path string) error {
	s.closed.Store(true)
	var errs []error
	if v := s.cur.Swap(nil); v != nil {
		if v.idx != nil {
			if err := v.idx.Remove(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := v.mapping.UnsafeUnmap(); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Append encodes whole frames for recs into a buffer and writes them to
// the data file with one pwrite (see Files for why not through the
// mapping), adds sparse index entries and then publishes the new end with
// an atomic store. It writes as many whole records as fit: n < len(recs)
// with a nil error means the segment is full and the caller should roll.
// Before anything is written it returns ErrTooLarge if a record can never
// fit an empty segment, ErrOutOfOrder if the seqs or arrival times go
// backwards, ErrSealed or ErrClosed; on an injected fault or any error
// nothing is published. A failed write is sticky; a file that cannot be
// opened (no descriptor left) is not. The caller serialises Append calls.
//
// After Append returns the frames survive kill -9 (they are in the page
// cache); after Sync they survive power loss.
func (s *Segment) Append(recs []Record) (n int, err error) {
	if err := s.checkAppend(recs); err != nil {
		return 0, fmt.Errorf("append segment %s: %w", s.path, err)
	}
	v := s.cur.Load()
	start := s.end.Load()
	off := start
	s.pending = s.pending[:0]
	sinceIndex := s.sinceIndex
	var growErr error
	for i := range recs {
		r := &recs[i]
		size := frameSize(r)
		// The segment is full past MaxSegmentBytes, except for a first
		// frame larger than that: it gets the segment to itself.
		if off+size > s.opts.MaxSegmentBytes && (off != headerSize || off+size > int64(len(v.mapping))) {
			break
		}
		if off+size > s.allocated {
			if growErr = s.grow(off + size); growErr != nil {
				break
			}
		}
		if off == headerSize || sinceIndex >= s.opts.IndexIntervalBytes {
			s.pending = append(s.pending, index.Entry{Seq: r.Seq, Off: uint64(off), TimeMs: r.ArrivalMs})
			sinceIndex = 0
		}
		off += size
		sinceIndex += int(size)
		n++
	}
	if n == 0 {
		if growErr != nil {
			return 0, fmt.Errorf("append segment %s: %w: %w", s.path, ErrNoSpace, growErr)
		}
		return 0, nil
	}
	if err := s.writeFrames(recs[:n], start, off); err != nil {
		return 0, fmt.Errorf("append segment %s: %w", s.path, err)
	}
	s.sinceIndex = sinceIndex
	if start == headerSize {
		s.firstTimeMs.Store(recs[0].ArrivalMs)
	}
	s.lastTimeMs.Store(recs[n-1].ArrivalMs)
	s.end.Store(off) // publish the frames, then the seq that names them
	s.nextSeq.Store(recs[n-1].Seq + 1)
	// The index only ever points at published frames. A full index just
	// makes the rest of the segment sparser.
	for _, e := range s.pending {
		if err := v.idx.Append(e); err != nil && !errors.Is(err, index.ErrFull) {
			panic(fmt.Sprintf("BUG: index entry %+v refused: %v", e, err))
		}
	}
	return n, nil
}

// frameBufs holds the buffers writeFrames encodes batches into.
var frameBufs sync.Pool // of *[]byte

// writeFrames encodes recs, whose frames span [start, end) of the file,
// and writes them there. Bytes a failed write left past the published end
// are overwritten by the next Append, or cut by recovery.
func (s *Segment) writeFrames(recs []Record, start, end int64) error {
	bp, _ := frameBufs.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < end-start {
		b := make([]byte, end-start)
		bp = &b
	}
	buf := (*bp)[:end-start]
	p := 0
	for i := range recs {
		p += putFrame(buf[p:], &recs[i])
	}
	err := s.withFile(func(f *os.File) error {
		if err := s.opts.fault("write"); err != nil {
			return s.fail(err)
		}
		if _, err := f.WriteAt(buf, start); err != nil {
			return s.fail(fmt.Errorf("write frames at %d: %w", start, err))
		}
		return nil
	})
	frameBufs.Put(bp)
	return err
}

// pageSize is the unit of allocation and msync.
var pageSize = int64(os.Getpagesize())

// growAllAt is the allocation from which grow gives a file the rest of
// its segment in one step: a segment that fills that much is busy, and one
// fallocate is cheaper than several (64 KiB appends ran ~13% slower when
// doubling all the way to 64 MiB).
const growAllAt = 1 << 20

// grow gives the file blocks up to at least need: it doubles the
// allocation until growAllAt and then allocates up to MaxSegmentBytes (or
// need, if more: a first frame larger than that), so a shard's disk follows
// its data while a busy segment is allocated in a handful of calls. It
// uses the descriptor Files keeps for writes. Called by the writer, before
// any byte past the old allocation is written.
func (s *Segment) grow(need int64) error {
	v := s.cur.Load()
	next := max(2*s.allocated, need)
	if next >= growAllAt {
		next = max(s.opts.MaxSegmentBytes, need)
	}
	next = (next + pageSize - 1) &^ (pageSize - 1)
	next = min(next, max(s.opts.MaxSegmentBytes, need), int64(len(v.mapping)))
	if err := s.opts.fault("grow"); err != nil {
		return err
	}
	err := s.withFile(func(f *os.File) error { return durable.Allocate(f, next) })
	if err != nil {
		return err
	}
	s.allocated = next
	return nil
}

// writable returns why nothing may be written to the segment (closed,
// sealed, or a sticky failure), or nil.
func (s *Segment) writable() error {
	switch {
	case s.closed.Load():
		return ErrClosed
	case s.sealed.Load():
		return ErrSealed
	case s.failed.Load() != nil:
		return *s.failed.Load()
	}
	return nil
}

// checkAppend validates a batch before anything is written.
func (s *Segment) checkAppend(recs []Record) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.opts.fault("append"); err != nil {
		return err
	}
	next, lastMs := s.nextSeq.Load(), s.lastTimeMs.Load()
	empty := s.end.Load() == headerSize
	room := s.opts.capacity() - headerSize
	for i := range recs {
		r := &recs[i]
		if len(r.Data) > MaxDataBytes || len(r.PartitionKey) > MaxPartitionKeyBytes ||
			len(r.ExplicitHashKey) > MaxExplicitHashKeyBytes || frameSize(r) > room {
			return fmt.Errorf("%w: record %d (seq %d): %d bytes of data, frame of %d bytes, segment room %d",
				ErrTooLarge, i, r.Seq, len(r.Data), frameSize(r), room)
		}
		if r.Seq < next || (!empty && r.ArrivalMs < lastMs) {
			return fmt.Errorf("%w: record %d has seq %d arrival %d after seq %d arrival %d",
				ErrOutOfOrder, i, r.Seq, r.ArrivalMs, next-1, lastMs)
		}
		next, lastMs, empty = r.Seq+1, r.ArrivalMs, false
	}
	return nil
}

// Base returns the first seq the segment may hold, which names its files.
func (s *Segment) Base() uint64 { return s.base }

// Path returns the path of the data file.
func (s *Segment) Path() string { return s.path }

// NextSeq returns the last seq + 1, or Base when the segment is empty. Safe
// concurrently with Append.
func (s *Segment) NextSeq() uint64 { return s.nextSeq.Load() }

// Empty reports whether the segment holds no record. Safe concurrently with
// Append.
func (s *Segment) Empty() bool { return s.nextSeq.Load() == s.base && s.end.Load() <= headerSize }

// FirstTimeMs returns the arrival time of the first record, or 0 when empty.
func (s *Segment) FirstTimeMs() int64 { return s.firstTimeMs.Load() }

// LastTimeMs returns the arrival time of the newest record, or 0 when
// empty. Safe concurrently with Append.
func (s *Segment) LastTimeMs() int64 { return s.lastTimeMs.Load() }

// CreatedAt returns when the segment file was created, from its header.
func (s *Segment) CreatedAt() time.Time { return s.created }

// Size returns the bytes of valid data including the header (for a
// compressed segment: its file size). Safe concurrently with Append.
func (s *Segment) Size() int64 {
	if v := s.cur.Load(); v != nil && v.compressed {
		return int64(len(v.mapping))
	}
	return s.end.Load()
}

// CutBytes returns how many bytes of torn or corrupt tail Open cut from
// this active segment, 0 when it cut nothing. Records may have been lost
// with them, so the owner must not hand their positions out again.
func (s *Segment) CutBytes() int64 { return s.cutBytes }

// MinFrameBytes is the size of the smallest possible frame (a one-byte
// partition key and no data): CutBytes / MinFrameBytes bounds how many
// records a cut can have held.
const MinFrameBytes = frameHeadSize + 1

// Sealed reports whether the segment is read-only. Safe concurrently.
func (s *Segment) Sealed() bool { return s.sealed.Load() }

// Compressed reports whether the segment has been compressed into
// blocks.
func (s *Segment) Compressed() bool {
	v := s.cur.Load()
	return v != nil && v.compressed
}

// Sync flushes the frames written since the last Sync (msync MS_SYNC); the
// index, which recovery rebuilds, is left to Seal and Close. Safe
// concurrently with Append, which is how group commit
// uses it: frames published before Sync starts survive power loss once it
// returns. A failure is sticky: Sync and Append keep returning it until the
// segment is reopened.
func (s *Segment) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.syncLocked(); err != nil {
		return fmt.Errorf("sync segment %s: %w", s.path, err)
	}
	return nil
}

// syncLocked is Sync; s.mu must be held.
func (s *Segment) syncLocked() error {
	switch {
	case s.closed.Load():
		return ErrClosed
	case s.failed.Load() != nil:
		return *s.failed.Load()
	case s.sealed.Load():
		return nil // Seal synced everything
	}
	if err := s.opts.fault("sync"); err != nil {
		return s.fail(err)
	}
	start := time.Now()
	v := s.cur.Load()
	end := s.end.Load()
	if end > s.synced {
		from := s.synced &^ (pageSize - 1) // msync wants a page-aligned start
		if err := v.mapping[from:end].Sync(gommap.MS_SYNC); err != nil {
			return s.fail(fmt.Errorf("msync: %w", err))
		}
	}
	// The index is not synced: it is derived data that recovery rebuilds
	// by scanning the active segment, and syncing it too would double the
	// cost of every group commit. Seal and Close sync it.
	s.synced = end
	if took := time.Since(start); took > time.Second {
		s.log.Warn().Dur("took", took).Int64("bytes", end).Msg("slow msync")
	}
	return nil
}

// SyncPoint returns how far the segment's data reaches now, for a sync of
// the whole filesystem that the caller runs next and reports with
// MarkSynced. Everything Sync checks first holds here too (ErrClosed, a
// sticky failure, the fault injector's "sync" step).
func (s *Segment) SyncPoint() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed.Load():
		return 0, ErrClosed
	case s.failed.Load() != nil:
		return 0, *s.failed.Load()
	case s.sealed.Load():
		return s.synced, nil // Seal synced everything
	}
	if err := s.opts.fault("sync"); err != nil {
		return 0, s.fail(err)
	}
	return s.end.Load(), nil
}

// MarkSynced records that a sync of the whole filesystem, started after
// SyncPoint returned end, made the data below end durable: the next Sync
// starts there.
func (s *Segment) MarkSynced(end int64) {
	s.mu.Lock()
	s.synced = max(s.synced, end)
	s.mu.Unlock()
}

// fail records a write error as sticky and returns it. We never retry an
// fsync and carry on: the pages it failed to write may already be dropped.
func (s *Segment) fail(err error) error {
	s.failed.CompareAndSwap(nil, &err)
	return err
}

// Reserve records durably, in the header of this active segment, that
// positions below limit may be handed out: after a crash or power loss
// that loses records, the owner resumes at or above the reservation of its
// last segment (Reserved) instead of reusing positions that readers may
// already have seen. It writes the header through the mapping and msyncs
// its page: one device flush, which a caller amortises by reserving far
// ahead. A failure is sticky. Called by the Append caller.
func (s *Segment) Reserve(limit uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.writable()
	if err == nil {
		if err = s.opts.fault("reserve"); err != nil {
			err = s.fail(err)
		}
	}
	if err == nil {
		m := s.cur.Load().mapping
		binary.LittleEndian.PutUint64(m[40:], limit)
		putHeaderCRC(m)
		if err = m[:headerSize].Sync(gommap.MS_SYNC); err != nil {
			err = s.fail(fmt.Errorf("msync header: %w", err))
		}
	}
	if err != nil {
		return fmt.Errorf("reserve segment %s to %d: %w", s.path, limit, err)
	}
	s.reserved = limit
	return nil
}

// Reserved returns the reservation of the segment's header (see Reserve),
// or 0 when the file does not record one (a segment of an older build).
func (s *Segment) Reserved() uint64 { return s.reserved }

// Seal flushes the segment, fsyncs it, trims the data file and the index to
// their valid size and makes the mapping read-only; later Appends return
// ErrSealed. Readers are not disturbed. Call it from the Append goroutine
// (it may run concurrently with Sync).
func (s *Segment) Seal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sealLocked(); err != nil {
		return fmt.Errorf("seal segment %s: %w", s.path, err)
	}
	s.log.Info().Int64("bytes", s.end.Load()).Uint64("seq", s.nextSeq.Load()).Msg("sealed segment")
	return nil
}

func (s *Segment) sealLocked() error {
	if s.sealed.Load() {
		return nil
	}
	if err := s.opts.fault("seal"); err != nil {
		return err
	}
	if err := s.syncLocked(); err != nil {
		return err
	}
	v := s.cur.Load()
	end := s.end.Load()
	// The newest arrival time goes into the header, so that the retention
	// store's expiry pass can tell from 64 bytes whether the file has expired.
	binary.LittleEndian.PutUint64(v.mapping[48:], uint64(s.lastTimeMs.Load()))
	putHeaderCRC(v.mapping)
	// Pages past the new end stay mapped but nothing reads at or past end.
	if err := s.opts.fault("seal-truncate"); err != nil {
		return s.fail(err)
	}
	err := s.withFile(func(f *os.File) error {
		if err := f.Truncate(end); err != nil {
			return err
		}
		if err := s.opts.fault("seal-fsync"); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	if err := s.opts.fault("seal-index"); err != nil {
		return s.fail(err)
	}
	if err := v.idx.Seal(); err != nil {
		return s.fail(err)
	}
	if err := v.mapping.Protect(gommap.PROT_READ); err != nil {
		return fmt.Errorf("mprotect: %w", err)
	}
	s.sealed.Store(true)
	if err := s.closeFile(); err != nil {
		s.log.Error().Err(err).Msg("close sealed segment")
	}
	return nil
}

// Acquire takes a reader reference, which keeps the mapping (and the
// slices Read returns) valid until Release. It returns false when the
// segment has already been retired and unmapped: the caller reloads its
// segment list. Safe concurrently with everything.
func (s *Segment) Acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release drops a reference taken by Acquire. The last reference of a
// retired segment unmaps it (and removes its files if Retire asked).
func (s *Segment) Release() {
	switch n := s.refs.Add(-1); {
	case n == 0:
		s.destroy()
	case n == 1 && s.hasOld.Load():
		// Only a compressed segment has replaced views: readers of any
		// other never take s.mu, so they never wait behind a running Sync.
		s.mu.Lock()
		s.releaseOldLocked()
		s.mu.Unlock()
	case n < 0:
		panic(fmt.Sprintf("BUG: segment %d released %d times too often", s.base, -n))
	}
}

// Retire drops the owner's reference; the segment is unmapped and closed
// once the last reader releases it and, if remove is true, its .log and .idx
// files are then unlinked and the directory fsynced. Calling Retire again
// does nothing.
func (s *Segment) Retire(remove bool) {
	if s.retired.Swap(true) {
		return
	}
	s.remove.Store(remove)
	s.log.Debug().Bool("remove", remove).Msg("retire segment")
	s.Release()
}

// releaseOldLocked unmaps the views Compress replaced once no reader can be
// using them. s.mu must be held.
func (s *Segment) releaseOldLocked() {
	// Readers take a reference before they load the view, and Compress swaps
	// the view before it queues the old one, so with only the owner's
	// reference left nobody can still be using a queued view.
	if len(s.old) == 0 || s.refs.Load() != 1 {
		return
	}
	for _, v := range s.old {
		if err := v.close(); err != nil {
			s.log.Error().Err(err).Msg("close replaced mapping")
		}
	}
	s.old = nil
	s.hasOld.Store(false)
}

// destroy unmaps everything when the last reference is gone.
func (s *Segment) destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	if err := s.closeFile(); err != nil {
		s.log.Error().Err(err).Msg("close segment")
	}
	s.cache.Store(nil)
	views := s.old
	s.old = nil
	s.hasOld.Store(false)
	if v := s.cur.Swap(nil); v != nil {
		views = append(views, v)
	}
	for _, v := range views {
		if err := v.close(); err != nil {
			s.log.Error().Err(err).Str("path", s.path).Msg("close segment")
		}
	}
	if !s.remove.Load() || s.readOnly {
		return
	}
	if err := s.opts.fault("remove"); err != nil {
		s.log.Error().Err(err).Msg("remove retired segment")
		return
	}
	for _, p := range []string{s.path, s.idxPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error().Err(err).Str("path", p).Msg("remove retired segment")
		}
	}
	if err := durable.SyncDir(s.dir); err != nil {
		s.log.Error().Err(err).Msg("fsync directory after retire")
	}
	s.log.Info().Msg("removed segment")
}

// Close is the owner's shutdown: it flushes an active segment (msync) and
// unmaps it without deleting anything. No reader may remain. A sticky write
// error is returned but the segment is closed anyway.
func (s *Segment) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	err := s.syncLocked()
	if v := s.cur.Load(); err == nil && v != nil && !s.sealed.Load() {
		err = v.idx.Sync()
	}
	if cerr := s.closeFile(); err == nil {
		err = cerr
	}
	s.closed.Store(true)
	s.mu.Unlock()
	s.refs.Store(1)
	s.remove.Store(false)
	s.Release()
	if err != nil {
		return fmt.Errorf("close segment %s: %w", s.path, err)
	}
	return nil
}
