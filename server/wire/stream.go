package wire

import (
	"errors"
	"io"
	"sync"
)

// StreamChunkBytes is about how much of a streamed body is encoded at a
// time: large enough that writing it costs a few syscalls per megabyte,
// small enough that a response holds little memory however large it is.
const StreamChunkBytes = 256 << 10

// Chunker encodes a body piece by piece, for Stream.
type Chunker interface {
	// NextChunk appends the next part of the body to dst, stopping once
	// dst holds at least limit bytes (or after one part that alone is
	// larger), and reports whether any part is left.
	NextChunk(dst []byte, limit int) ([]byte, bool)
	// Release frees what the body is encoded from; it runs once, when the
	// stream is closed, whether or not the body was written.
	Release()
}

// Stream is a response body encoded while it is written, for answers too
// large to encode into one buffer first (a GetRecords page of megabytes):
// it holds one chunk at a time, and the first bytes leave before the last
// are encoded. The server announces Size, writes it with WriteTo (or
// Read) and then calls Close.
type Stream struct {
	src     Chunker
	gate    *Gate   // nil: none
	size    int     // of the whole body
	buf     *[]byte // pooled, holds the current chunk
	pending []byte  // of the current chunk, not yet read
	more    bool    // the chunker has parts left
}

var streams = sync.Pool{New: func() any { return new(Stream) }}

// NewStream returns a stream of the body src encodes, size bytes long
// (announced as the Content-Length before any is encoded). It owns src
// from here on: Close releases it.
func NewStream(src Chunker, size int) *Stream {
	s := streams.Get().(*Stream)
	s.src, s.size, s.buf, s.more = src, size, GetBuffer(), true
	s.pending = (*s.buf)[:0]
	return s
}

// Gate keeps streams from encoding once their source may be gone (the
// store closed at shutdown): each chunk is encoded, and each source
// released, under its read lock, so that Close, which takes the write
// lock, returns once none is being encoded, and none is after.
type Gate struct {
	mu     sync.RWMutex
	closed bool
}

// Close ends every stream the gate guards: a stream not finished fails its
// next read or write with ErrStreamClosed, and its source is never
// released (what it held went with its owner).
func (g *Gate) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// ErrStreamClosed is what a stream's Read and WriteTo return once its gate
// is closed.
var ErrStreamClosed = errors.New("response stream ended: the server is shutting down")

// Guard puts s behind g.
func (s *Stream) Guard(g *Gate) { s.gate = g }

// Size returns the length of the body.
func (s *Stream) Size() int { return s.size }

// fill encodes the next chunk into the buffer once the last one is read.
func (s *Stream) fill() error {
	if len(s.pending) > 0 || !s.more {
		return nil
	}
	if g := s.gate; g != nil {
		g.mu.RLock()
		defer g.mu.RUnlock()
		if g.closed {
			return ErrStreamClosed
		}
	}
	s.pending, s.more = s.src.NextChunk((*s.buf)[:0], StreamChunkBytes)
	*s.buf = s.pending[:0] // keep the grown buffer
	return nil
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	if len(s.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// WriteTo implements io.WriterTo: one Write per chunk.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := s.fill(); err != nil {
			return total, err
		}
		if len(s.pending) == 0 {
			return total, nil
		}
		n, err := w.Write(s.pending)
		total += int64(n)
		s.pending = s.pending[n:]
		if err != nil {
			return total, err
		}
	}
}

// Close releases the body's source, unless its gate is closed, and
// returns the buffers to their pools. The stream must not be used after.
func (s *Stream) Close() error {
	if g := s.gate; g != nil {
		g.mu.RLock()
		defer g.mu.RUnlock()
		if !g.closed {
			s.src.Release()
		}
	} else {
		s.src.Release()
	}
	PutBuffer(s.buf, *s.buf)
	*s = Stream{}
	streams.Put(s)
	return nil
}
