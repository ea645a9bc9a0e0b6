package h2

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of the Server's zero fields.
const (
	defaultMaxStreams = 250
	defaultWindow     = 1 << 20
	// maxHeaderListBytes is the largest header list a request may send
	// (SETTINGS_MAX_HEADER_LIST_SIZE); a larger one is answered 431.
	maxHeaderListBytes = 64 << 10
	// prefaceTimeout bounds reading the client preface when ReadTimeout is
	// zero.
	prefaceTimeout = 10 * time.Second
)

// Server serves HTTP/2 connections to Handler. Set its fields before the
// first Serve; they must not change after.
type Server struct {
	// Handler answers every request.
	Handler http.Handler
	// MaxConcurrentStreams bounds the handlers a connection runs at once
	// (default 250).
	MaxConcurrentStreams uint32
	// Window is the flow-control window granted per connection and per
	// stream: the most request body a peer can send that no handler has
	// read yet (default 1 MiB; at least 65535, the protocol's initial
	// window, which a peer may use before it sees our settings; at most
	// 2^31-1).
	Window int32
	// ReadTimeout bounds receiving one request's body, from its headers;
	// WriteTimeout each socket write and each wait for a peer's
	// flow-control credit (a handler may lift the latter for its stream
	// with http.ResponseController.SetWriteDeadline); IdleTimeout closes a
	// connection without streams. Zero means no limit.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Log receives protocol errors of misbehaving peers, at debug level.
	Log zerolog.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closing  bool
	drained  chan struct{} // closed when closing and conns is empty; under mu
	listener []net.Listener
	workers  workers
}

// Serve serves every connection ln accepts, each on its own goroutine,
// until ln fails or Shutdown. It returns http.ErrServerClosed after
// Shutdown, and otherwise the error of Accept. It closes ln when it
// returns.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.listener = append(s.listener, ln)
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return http.ErrServerClosed
			}
			return err
		}
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			continue
		}
		go c.serve()
	}
}

// newConn registers a connection, or returns nil after Shutdown.
func (s *Server) newConn(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	return c
}

// forget drops a closed connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.closing && len(s.conns) == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// Shutdown stops accepting, tells every connection to finish the streams
// it has (GOAWAY) and waits until they have, or until ctx is done: then it
// closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	var errs []error
	for _, ln := range s.listener {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.listener = nil
	drained := make(chan struct{})
	if len(s.conns) == 0 {
		close(drained)
	} else {
		s.drained = drained
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.goAway()
	}
	select {
	case <-drained:
	case <-ctx.Done():
		for _, c := range conns {
			c.close()
		}
		errs = append(errs, ctx.Err())
	}
	s.workers.stop()
	return errors.Join(errs...)
}

func (s *Server) maxStreams() int {
	if s.MaxConcurrentStreams == 0 {
		return defaultMaxStreams
	}
	return int(s.MaxConcurrentStreams)
}

func (s *Server) window() int32 {
	if s.Window <= 0 {
		return defaultWindow
	}
	return max(s.Window, initialWindow)
}
