package segment

import (
	"container/list"
	"fmt"
	"os"
	"sync"
)

// Files bounds how many data files active segments keep open for writing.
//
// Append writes frames with pwrite(2) rather than through the mapping:
// pages dirtied through a shared mapping must be write-protected again
// before writeback, one TLB shootdown (an interrupt to every other core
// running the process) per 4 KiB page, which cost a quarter of the server's
// CPU at 1 KiB PutRecords; and faulting pages of an allocated but unwritten
// extent in to write them zeroes each page first. Readers still read the
// mapping, which sees the page cache pwrite fills.
//
// A segment opens its file on its first write and keeps the descriptor
// while it stays among the most recently written max; the least recently
// written segment's descriptor is closed to make room, so that a store with
// many idle shards holds no descriptor per shard. One Files is shared by
// every segment of a store. The zero value is not usable; see NewFiles.
type Files struct {
	mu   sync.Mutex
	max  int
	open list.List // of *Segment, most recently written at the front
}

// DefaultOpenFiles is the capacity of a store's Files when it sets none.
const DefaultOpenFiles = 256

// NewFiles returns a Files that keeps at most max descriptors (at least 1).
func NewFiles(max int) *Files {
	f := &Files{max: max}
	if f.max < 1 {
		f.max = 1
	}
	return f
}

// Open returns how many descriptors are held.
func (fs *Files) Open() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.open.Len()
}

// touch moves s to the front; s.wmu is held.
func (fs *Files) touch(s *Segment) {
	fs.mu.Lock()
	fs.open.MoveToFront(s.welem)
	fs.mu.Unlock()
}

// add records that s now holds a descriptor and closes the least recently
// written others past max. A segment whose writer is busy (its wmu is held)
// is skipped rather than waited for: the caller holds s.wmu, and waiting in
// the other order could deadlock. s.wmu is held.
func (fs *Files) add(s *Segment) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	s.welem = fs.open.PushFront(s)
	for e := fs.open.Back(); e != nil && fs.open.Len() > fs.max; {
		prev := e.Prev()
		v := e.Value.(*Segment)
		if v != s && v.wmu.TryLock() {
			fs.open.Remove(e)
			v.welem = nil
			if err := v.wf.Close(); err != nil {
				v.log.Error().Err(err).Str("path", v.path).Msg("close data file")
			}
			v.wf = nil
			v.wmu.Unlock()
		}
		e = prev
	}
}

// remove forgets s, whose descriptor the caller closes; s.wmu is held.
func (fs *Files) remove(s *Segment) {
	fs.mu.Lock()
	fs.open.Remove(s.welem)
	fs.mu.Unlock()
	s.welem = nil
}

// withFile runs op on the data file opened read-write. With a Files the
// descriptor is kept for the next write (see Files); without one it is
// opened for the call and closed again. Calls are serialised per segment.
func (s *Segment) withFile(op func(f *os.File) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	fs := s.opts.Files
	if s.wf != nil {
		fs.touch(s)
		return op(s.wf)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if fs == nil {
		err = op(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	s.wf = f
	fs.add(s)
	return op(f)
}

// closeFile closes the descriptor withFile kept, if any: at seal, close and
// destroy, after which the segment is never written again.
func (s *Segment) closeFile() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.wf == nil {
		return nil
	}
	s.opts.Files.remove(s)
	err := s.wf.Close()
	s.wf = nil
	if err != nil {
		return fmt.Errorf("close data file %s: %w", s.path, err)
	}
	return nil
}
