package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// clientPreface opens every HTTP/2 connection (RFC 9113 §3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Protocol defaults a connection starts from (RFC 9113 §6.5.2, §6.9.2).
const (
	initialWindow   = 65535
	initialMaxFrame = 16384
	maxWindow       = 1<<31 - 1
)

// Errors a handler sees reading a request body or writing its answer.
var (
	errStreamReset  = errors.New("h2: stream reset")
	errConnClosed   = errors.New("h2: connection closed")
	errBodyTimeout  = errors.New("h2: request body not received within the read timeout")
	errWriteTimeout = errors.New("h2: flow-control credit not received within the write timeout")
	errStreamDone   = errors.New("h2: stream done")
	errBadPreface   = errors.New("h2: bad client preface")
	errNoSettings   = errors.New("h2: first frame is not SETTINGS")
)

// conn is one HTTP/2 connection. Its serve goroutine reads and handles
// every frame; handlers write their own frames (write).
type conn struct {
	srv        *Server
	nc         net.Conn
	remoteAddr string
	tlsState   *tls.ConnectionState // nil for h2c
	ctx        context.Context      // done once the connection closes
	cancel     context.CancelFunc
	window     int32 // srv.window()

	// Read by the serve goroutine only.
	br        *bufio.Reader
	fr        *http2.Framer // reads br; its writes go to bw under wmu
	canonical map[string]string

	// wmu guards the writing half: the framer's writes, bw, the HPACK
	// encoder and its buffer. writers counts goroutines inside or waiting
	// for write; the last one out flushes bw.
	wmu     sync.Mutex
	bw      *bufio.Writer
	henc    *hpack.Encoder
	hbuf    bytes.Buffer
	lower   map[string]string // response header name → its wire form
	werr    error
	writers atomic.Int32
	// maxFrame is the peer's SETTINGS_MAX_FRAME_SIZE: the largest DATA
	// payload or header block fragment we send.
	maxFrame atomic.Int32

	// mu guards the connection's state below and every stream's fields
	// marked so; flow is signalled when send windows grow, a stream is
	// reset, or the connection closes.
	mu         sync.Mutex
	flow       sync.Cond
	streams    map[uint32]*stream
	lastID     uint32 // highest stream the client opened
	sendWin    int64  // connection send window
	initialWin int64  // peer's SETTINGS_INITIAL_WINDOW_SIZE
	recvWin    int64  // connection receive window left
	unacked    int64  // connection receive credit consumed, not yet returned
	refused    int    // streams refused in a row for the concurrency limit
	goingAway  bool   // GOAWAY sent or received: no new streams
	closed     bool
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:        s,
		nc:         nc,
		remoteAddr: nc.RemoteAddr().String(),
		window:     s.window(),
		br:         bufio.NewReaderSize(nc, 64<<10),
		canonical:  make(map[string]string),
		lower:      make(map[string]string),
		streams:    make(map[uint32]*stream),
		sendWin:    initialWindow,
		initialWin: initialWindow,
	}
	if tc, ok := nc.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		c.tlsState = &cs
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.flow.L = &c.mu
	c.recvWin = int64(c.window)
	c.bw = bufio.NewWriterSize(deadlineWriter{nc, s.WriteTimeout}, 64<<10)
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.SetMaxReadFrameSize(initialMaxFrame) // we advertise no other
	c.fr.MaxHeaderListSize = maxHeaderListBytes
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.maxFrame.Store(initialMaxFrame)
	return c
}

// deadlineWriter writes to a connection with a write deadline of timeout
// from each write (none when timeout is zero).
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	if w.timeout > 0 {
		_ = w.nc.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	return w.nc.Write(p)
}

// serve reads and handles frames until the connection fails or closes.
func (c *conn) serve() {
	defer c.srv.forget(c)
	defer c.close()
	if err := c.start(); err != nil {
		c.srv.Log.Debug().Err(err).Str("remote", c.remoteAddr).Msg("h2: connection not started")
		return
	}
	for {
		f, err := c.fr.ReadFrame()
		if err == nil {
			err = c.process(f)
		}
		if err == nil {
			continue
		}
		var se http2.StreamError
		if errors.As(err, &se) {
			c.resetStream(se.StreamID, se.Code)
			continue
		}
		if errors.Is(err, http2.ErrFrameTooLarge) {
			err = http2.ConnectionError(http2.ErrCodeFrameSize)
		}
		var ce http2.ConnectionError
		if errors.As(err, &ce) {
			c.srv.Log.Debug().Err(err).Str("remote", c.remoteAddr).Msg("h2: connection error")
			c.fail(http2.ErrCode(ce))
		}
		return
	}
}

// start reads the client preface, sends the server's settings and reads
// the client's first frame, which must be SETTINGS.
func (c *conn) start() error {
	t := c.srv.ReadTimeout
	if t <= 0 {
		t = prefaceTimeout
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(t))
	var preface [len(clientPreface)]byte
	if _, err := io.ReadFull(c.br, preface[:]); err != nil {
		return err
	}
	if string(preface[:]) != clientPreface {
		return errBadPreface
	}
	err := c.write(true, func() error {
		err := c.fr.WriteSettings(
			http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(c.srv.maxStreams())},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(c.window)},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: maxHeaderListBytes},
		)
		if err == nil && c.window > initialWindow {
			err = c.fr.WriteWindowUpdate(0, uint32(c.window-initialWindow))
		}
		return err
	})
	if err != nil {
		return err
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return err
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		c.fail(http2.ErrCodeProtocol)
		return errNoSettings
	}
	if err := c.processSettings(sf); err != nil {
		c.fail(http2.ErrCodeProtocol)
		return err
	}
	c.mu.Lock()
	c.idleLocked()
	c.mu.Unlock()
	return nil
}

// process handles one frame. A StreamError resets its stream, any other
// error ends the connection.
func (c *conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.processHeaders(f)
	case *http2.DataFrame:
		return c.processData(f)
	case *http2.SettingsFrame:
		return c.processSettings(f)
	case *http2.WindowUpdateFrame:
		return c.processWindowUpdate(f)
	case *http2.RSTStreamFrame:
		return c.processReset(f)
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		return c.write(false, func() error { return c.fr.WritePing(true, f.Data) })
	case *http2.GoAwayFrame:
		// No new streams; the connection stays until the peer closes it
		// or it idles out. Closing it here, with the peer's next frames
		// unread, would answer them with a TCP reset.
		c.mu.Lock()
		c.goingAway = true
		c.mu.Unlock()
		return nil
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol}
		}
		return nil
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // only servers push
	default:
		return nil // unknown frame types are ignored (RFC 9113 §4.1)
	}
}

// processSettings applies the client's settings and acknowledges them.
func (c *conn) processSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			c.mu.Lock()
			defer c.mu.Unlock()
			delta := int64(s.Val) - c.initialWin
			c.initialWin = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > maxWindow {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			c.flow.Broadcast()
		case http2.SettingMaxFrameSize:
			c.maxFrame.Store(int32(s.Val))
		case http2.SettingHeaderTableSize:
			c.wmu.Lock()
			c.henc.SetMaxDynamicTableSizeLimit(s.Val)
			c.wmu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.write(false, c.fr.WriteSettingsAck)
}

// processWindowUpdate adds a peer's credit to a send window.
func (c *conn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		c.sendWin += inc
		if c.sendWin > maxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		c.flow.Broadcast()
		return nil
	}
	st := c.streams[f.StreamID]
	if st == nil {
		if f.StreamID > c.lastID {
			return http2.ConnectionError(http2.ErrCodeProtocol) // idle stream
		}
		return nil // a closed stream: frames in flight are ignored
	}
	st.sendWin += inc
	if st.sendWin > maxWindow {
		return http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeFlowControl}
	}
	c.flow.Broadcast()
	return nil
}

// processReset ends a stream the client reset: its handler's context is
// cancelled, its body and writes fail.
func (c *conn) processReset(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	st := c.streams[f.StreamID]
	if st == nil {
		idle := f.StreamID > c.lastID
		c.mu.Unlock()
		if idle {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		return nil
	}
	st.resetLocked(errStreamReset)
	st.peerReset = true
	c.mu.Unlock()
	st.cancel()
	return nil
}

// resetStream sends RST_STREAM for id with code, and ends the stream if
// it is open.
func (c *conn) resetStream(id uint32, code http2.ErrCode) {
	c.mu.Lock()
	st := c.streams[id]
	if st != nil {
		if st.reset && !st.peerReset {
			c.mu.Unlock()
			return // reset already, by us
		}
		st.resetLocked(errStreamReset)
	}
	c.mu.Unlock()
	if st != nil {
		st.cancel()
	}
	_ = c.write(false, func() error { return c.fr.WriteRSTStream(id, code) })
}

// sendReset sends RST_STREAM for st, which its caller has already ended
// (resetLocked), and cancels its context.
func (c *conn) sendReset(st *stream, code http2.ErrCode) {
	st.cancel()
	_ = c.write(false, func() error { return c.fr.WriteRSTStream(st.id, code) })
}

// write runs fn, which writes frames, under the write lock. The last
// writer to leave flushes, so frames written at about the same time share
// one write to the socket; force flushes anyway. A write error is sticky
// and closes the connection.
func (c *conn) write(force bool, fn func() error) error {
	c.writers.Add(1)
	c.wmu.Lock()
	err := c.werr
	if err == nil {
		err = fn()
	}
	if last := c.writers.Add(-1) == 0; err == nil && (last || force) {
		err = c.bw.Flush()
	}
	if err != nil && c.werr == nil {
		c.werr = err
	}
	c.wmu.Unlock()
	if err != nil {
		c.close()
	}
	return err
}

// goAway tells the client to open no more streams, and closes the
// connection once the streams it has are done.
func (c *conn) goAway() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	sent := c.goingAway // already, or the peer went away first
	c.goingAway = true
	last, empty := c.lastID, len(c.streams) == 0
	c.mu.Unlock()
	if !sent {
		_ = c.write(true, func() error { return c.fr.WriteGoAway(last, http2.ErrCodeNo, nil) })
	}
	if empty {
		c.close()
	}
}

// fail sends GOAWAY with code and closes the connection.
func (c *conn) fail(code http2.ErrCode) {
	c.mu.Lock()
	last := c.lastID
	c.goingAway = true
	c.mu.Unlock()
	_ = c.write(true, func() error { return c.fr.WriteGoAway(last, code, nil) })
	c.close()
}

// close closes the connection: every stream's body read and write fails
// and every handler's context is cancelled. It may be called many times.
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	for _, st := range c.streams {
		if st.bodyErr == nil {
			st.bodyErr = errConnClosed
		}
		st.bodyReady.Broadcast()
	}
	c.flow.Broadcast()
	c.mu.Unlock()
	c.cancel()
	_ = c.nc.Close()
}

// idleLocked starts the idle timer when the connection has no streams
// (or closes a connection going away). c.mu must be held.
func (c *conn) idleLocked() {
	if len(c.streams) != 0 {
		return
	}
	if c.goingAway {
		go c.close() // close takes c.mu
		return
	}
	if t := c.srv.IdleTimeout; t > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(t))
	} else {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
}

// creditLocked returns n bytes a handler read (or a closed stream
// dropped) to the connection's receive window, and st's when it still
// receives. It returns the WINDOW_UPDATE increments worth sending now:
// once a quarter of a window is owed, so that small bodies cost no frame.
// c.mu must be held.
func (c *conn) creditLocked(st *stream, n int64) (connInc, streamInc uint32) {
	c.unacked += n
	if c.unacked >= int64(c.window)/4 {
		connInc = uint32(c.unacked)
		c.recvWin += c.unacked
		c.unacked = 0
	}
	if st != nil && !st.recvDone && !st.reset {
		st.unacked += n
		if st.unacked >= int64(c.window)/4 {
			streamInc = uint32(st.unacked)
			st.recvWin += st.unacked
			st.unacked = 0
		}
	}
	return connInc, streamInc
}

// sendCredit sends the WINDOW_UPDATE frames creditLocked asked for.
func (c *conn) sendCredit(id uint32, connInc, streamInc uint32) {
	if connInc == 0 && streamInc == 0 {
		return
	}
	_ = c.write(false, func() error {
		if connInc > 0 {
			if err := c.fr.WriteWindowUpdate(0, connInc); err != nil {
				return err
			}
		}
		if streamInc > 0 {
			return c.fr.WriteWindowUpdate(id, streamInc)
		}
		return nil
	})
}
