package h2

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// stream is one request and its answer. The fields below cancel are
// guarded by c.mu.
type stream struct {
	c      *conn
	id     uint32
	ctx    context.Context // the request's; cancelled when the stream ends
	cancel context.CancelFunc

	sendWin   int64       // stream send window
	recvWin   int64       // stream receive window left
	unacked   int64       // stream receive credit consumed, not yet returned
	declared  int64       // Content-Length, -1 when not sent
	received  int64       // body bytes received
	recvDone  bool        // END_STREAM received
	reset     bool        // RST_STREAM sent or received, or the handler returned
	peerReset bool        // RST_STREAM received
	sentEnd   atomic.Bool // END_STREAM sent (set just before it is written)

	// The request body not read yet is body[bodyOff:]; bodyErr is what a
	// read returns once it is drained (io.EOF after END_STREAM).
	// bodyReady is signalled when either changes.
	body      []byte
	bodyOff   int
	bodyErr   error
	bodyReady sync.Cond // on c.mu
	bodyTimer *time.Timer
	readBy    time.Time // ReadTimeout from the headers; zero: no limit
	writeBy   time.Time // WriteTimeout from the headers; zero: no limit
}

// resetLocked ends st for reading and writing: its body reads fail with
// err once drained and its writers stop. c.mu must be held.
func (st *stream) resetLocked(err error) {
	st.reset = true
	if st.bodyErr == nil {
		st.bodyErr = err
	}
	st.bodyReady.Broadcast()
	st.c.flow.Broadcast()
}

// processHeaders opens a stream and starts its handler, or takes a
// stream's trailers.
func (c *conn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return http2.ConnectionError(http2.ErrCodeProtocol) // clients open odd streams
	}
	c.mu.Lock()
	if st := c.streams[id]; st != nil {
		defer c.mu.Unlock()
		return c.trailersLocked(st, f)
	}
	if id <= c.lastID {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeStreamClosed)
	}
	c.lastID = id
	switch {
	case c.goingAway:
		c.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	case f.HasPriority() && f.Priority.StreamDep == id:
		c.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	case len(c.streams) >= c.srv.maxStreams():
		c.refused++
		calm := c.refused > c.srv.maxStreams()
		c.mu.Unlock()
		if calm {
			return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
		}
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	}
	c.mu.Unlock()

	st := &stream{c: c, id: id, recvWin: int64(c.window), declared: -1}
	st.bodyReady.L = &c.mu
	req, err := c.newRequest(st, f)
	if err != nil {
		return err
	}
	now := time.Now()
	if t := c.srv.ReadTimeout; t > 0 {
		st.readBy = now.Add(t)
	}
	if t := c.srv.WriteTimeout; t > 0 {
		st.writeBy = now.Add(t)
	}
	c.mu.Lock()
	c.refused = 0
	st.sendWin = c.initialWin
	c.streams[id] = st
	if len(c.streams) == 1 {
		_ = c.nc.SetReadDeadline(time.Time{}) // not idle
	}
	c.mu.Unlock()
	h := c.srv.Handler
	if f.Truncated {
		h = headersTooLarge
	}
	c.srv.workers.run(job{c: c, st: st, req: req, h: h})
	return nil
}

// headersTooLarge answers a request whose header list exceeded
// SETTINGS_MAX_HEADER_LIST_SIZE.
var headersTooLarge = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
})

// trailersLocked takes a HEADERS frame on an open stream: trailers, which
// must end the stream, and are dropped. c.mu must be held.
func (c *conn) trailersLocked(st *stream, f *http2.MetaHeadersFrame) error {
	switch {
	case st.recvDone && st.sentEnd.Load():
		return http2.ConnectionError(http2.ErrCodeStreamClosed) // closed both ways
	case st.recvDone || st.reset:
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeStreamClosed}
	case !f.StreamEnded():
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	case st.declared >= 0 && st.received != st.declared:
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	}
	st.recvDone = true
	st.bodyErr = io.EOF
	st.bodyReady.Broadcast()
	return nil
}

// newRequest builds the http.Request of a stream from its headers.
func (c *conn) newRequest(st *stream, f *http2.MetaHeadersFrame) (*http.Request, error) {
	malformed := http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	var method, path, scheme, authority string
	for _, hf := range f.PseudoFields() {
		switch hf.Name {
		case ":method":
			method = hf.Value
		case ":path":
			path = hf.Value
		case ":scheme":
			scheme = hf.Value
		case ":authority":
			authority = hf.Value
		default:
			return nil, malformed
		}
	}
	if method == "" || path == "" || scheme == "" {
		return nil, malformed
	}
	regular := f.RegularFields()
	header := make(http.Header, len(regular))
	values := make([]string, len(regular)) // one allocation for every value
	for i, hf := range regular {
		switch hf.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return nil, malformed // connection-specific (RFC 9113 §8.2.2)
		case "te":
			if hf.Value != "trailers" {
				return nil, malformed
			}
		}
		key := c.canonicalName(hf.Name)
		if vs := header[key]; vs != nil {
			header[key] = append(vs, hf.Value)
			continue
		}
		values[i] = hf.Value
		header[key] = values[i : i+1 : i+1]
	}
	if cl := header["Content-Length"]; cl != nil {
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil || len(cl) > 1 {
			return nil, malformed
		}
		st.declared = int64(n)
	}
	if authority == "" {
		authority = header.Get("Host")
	}
	u := &url.URL{Path: "/"}
	if path != "/" {
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return nil, malformed
		}
	}
	req := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        header,
		Body:          (*requestBody)(st),
		ContentLength: st.declared,
		Host:          authority,
		RemoteAddr:    c.remoteAddr,
		RequestURI:    path,
		TLS:           c.tlsState,
	}
	if f.StreamEnded() {
		if st.declared > 0 {
			return nil, malformed
		}
		st.recvDone = true
		st.bodyErr = io.EOF
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	st.ctx, st.cancel = context.WithCancel(c.ctx)
	return req.WithContext(st.ctx), nil
}

// canonicalName returns the net/http form of a header name (HPACK sends
// them lower-case), remembering the connection's names.
func (c *conn) canonicalName(name string) string {
	if k, ok := c.canonical[name]; ok {
		return k
	}
	k := http.CanonicalHeaderKey(name)
	if len(c.canonical) < 256 {
		c.canonical[name] = k
	}
	return k
}

// processData adds a DATA frame to its stream's body.
func (c *conn) processData(f *http2.DataFrame) error {
	id, n := f.StreamID, int64(f.Length)
	data := f.Data()
	c.mu.Lock()
	if n > c.recvWin {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	c.recvWin -= n
	st := c.streams[id]
	if st == nil || st.recvDone || st.reset {
		// Not open: the frame is dropped and its credit given back.
		connInc, _ := c.creditLocked(nil, n)
		idle := id > c.lastID
		quiet := st != nil && st.reset && !st.peerReset // in flight when we ended it
		c.mu.Unlock()
		c.sendCredit(0, connInc, 0)
		switch {
		case idle:
			return http2.ConnectionError(http2.ErrCodeProtocol)
		case quiet:
			return nil
		}
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
	}
	if n > st.recvWin {
		connInc, _ := c.creditLocked(nil, n)
		c.mu.Unlock()
		c.sendCredit(0, connInc, 0)
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeFlowControl}
	}
	st.recvWin -= n
	st.received += int64(len(data))
	if st.declared >= 0 && (st.received > st.declared || f.StreamEnded() && st.received != st.declared) {
		connInc, _ := c.creditLocked(nil, n)
		c.mu.Unlock()
		c.sendCredit(0, connInc, 0)
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	if len(data) > 0 {
		if st.body == nil {
			size := int64(len(data))
			if st.declared > size {
				size = min(st.declared, int64(c.window))
			}
			st.body = make([]byte, 0, size)
		}
		st.body = append(st.body, data...)
	}
	if f.StreamEnded() {
		st.recvDone = true
		st.bodyErr = io.EOF
	}
	st.bodyReady.Broadcast()
	var connInc, streamInc uint32
	if pad := n - int64(len(data)); pad > 0 {
		connInc, streamInc = c.creditLocked(st, pad) // padding is never read
	}
	c.mu.Unlock()
	c.sendCredit(id, connInc, streamInc)
	return nil
}

// requestBody is a stream as the request's Body.
type requestBody stream

// Read reads the request body, waiting for DATA frames until ReadTimeout
// from the request's headers.
func (b *requestBody) Read(p []byte) (int, error) {
	st := (*stream)(b)
	c := st.c
	c.mu.Lock()
	for st.bodyOff == len(st.body) && st.bodyErr == nil {
		if st.bodyTimer == nil && !st.readBy.IsZero() {
			st.bodyTimer = time.AfterFunc(time.Until(st.readBy), func() {
				c.mu.Lock()
				if st.bodyErr == nil {
					st.bodyErr = errBodyTimeout
				}
				st.bodyReady.Broadcast()
				c.mu.Unlock()
			})
		}
		st.bodyReady.Wait()
	}
	if st.bodyOff == len(st.body) {
		err := st.bodyErr
		c.mu.Unlock()
		return 0, err
	}
	n := copy(p, st.body[st.bodyOff:])
	st.bodyOff += n
	if st.bodyOff == len(st.body) {
		st.body, st.bodyOff = st.body[:0], 0
	}
	connInc, streamInc := c.creditLocked(st, int64(n))
	c.mu.Unlock()
	c.sendCredit(st.id, connInc, streamInc)
	return n, nil
}

// Close does nothing: the stream gives back what is left of its body
// when its handler returns.
func (b *requestBody) Close() error { return nil }

// runHandler runs h for one stream, sends what it left unsent and ends
// the stream.
func (c *conn) runHandler(st *stream, req *http.Request, h http.Handler) {
	w := &responseWriter{st: st, head: req.Method == http.MethodHead, status: http.StatusOK}
	defer c.endStream(st, w)
	h.ServeHTTP(w, req)
	w.done = true
}

// endStream finishes a stream whose handler returned (or panicked): the
// answer is completed, or the stream reset, its unread body credited
// back, and the connection goes idle if it was the last stream.
func (c *conn) endStream(st *stream, w *responseWriter) {
	if !w.done {
		p := recover()
		if p != http.ErrAbortHandler {
			c.srv.Log.Error().Interface("panic", p).Str("remote", c.remoteAddr).Msg("h2: handler panicked")
		}
		c.resetStream(st.id, http2.ErrCodeInternal)
	} else {
		w.finish()
	}
	c.mu.Lock()
	delete(c.streams, st.id)
	tellDone := !st.recvDone && !st.reset // the client may still be sending
	connInc, _ := c.creditLocked(nil, int64(len(st.body)-st.bodyOff))
	st.body, st.bodyOff = nil, 0
	st.resetLocked(errStreamDone)
	if st.bodyTimer != nil {
		st.bodyTimer.Stop()
	}
	c.idleLocked()
	c.mu.Unlock()
	st.cancel()
	if tellDone || connInc > 0 {
		_ = c.write(false, func() error {
			if tellDone {
				if err := c.fr.WriteRSTStream(st.id, http2.ErrCodeNo); err != nil {
					return err
				}
			}
			if connInc > 0 {
				return c.fr.WriteWindowUpdate(0, connInc)
			}
			return nil
		})
	}
}
