package h2

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Response bodies are held until the handler returns (one DATA frame with
// END_STREAM, and a Content-Length) unless they grow past bufferedBytes or
// the handler flushes; a single write of directBytes or more goes out at
// once instead of being copied.
const (
	bufferedBytes = 64 << 10
	directBytes   = 16 << 10
)

// responseWriter is the http.ResponseWriter of one stream; it also
// implements http.Flusher and the deadline setter of
// http.ResponseController. Used by the stream's handler goroutine only.
type responseWriter struct {
	st          *stream
	header      http.Header
	status      int
	wroteHeader bool   // WriteHeader called, or implied by a write
	sentHeader  bool   // the HEADERS frame is out
	head        bool   // a HEAD request: the body is dropped
	done        bool   // the handler returned normally
	buf         []byte // body not sent yet
	err         error  // the first failed send; every later write fails
}

func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// WriteHeader sets the status; informational (1xx) ones are not sent.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader || code < 200 {
		return
	}
	w.status, w.wroteHeader = code, true
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	switch {
	case w.err != nil:
		return 0, w.err
	case w.head:
		return len(p), nil
	case len(w.buf) == 0 && len(p) >= directBytes:
		if err := w.send(p, false); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= bufferedBytes {
		if err := w.send(w.buf, false); err != nil {
			return 0, err
		}
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// Flush sends the headers and what is buffered.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting a failure (http.ResponseController).
func (w *responseWriter) FlushError() error {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return w.err
	}
	if err := w.send(w.buf, false); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// SetWriteDeadline sets how long the stream may wait for the client's
// flow-control credit (http.ResponseController); zero lifts the limit.
func (w *responseWriter) SetWriteDeadline(t time.Time) error {
	c := w.st.c
	c.mu.Lock()
	w.st.writeBy = t
	c.mu.Unlock()
	return nil
}

// finish completes the answer once the handler has returned. A handler
// that wrote nothing after its request body failed (a reset, a timeout)
// has its stream reset instead: nobody reads a made-up answer.
func (w *responseWriter) finish() {
	c := w.st.c
	if !w.wroteHeader {
		c.mu.Lock()
		failed := w.st.bodyErr != nil && w.st.bodyErr != io.EOF && w.st.bodyErr != errStreamDone
		c.mu.Unlock()
		if failed {
			c.resetStream(w.st.id, http2.ErrCodeCancel)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	if w.err == nil {
		_ = w.send(w.buf, true)
	}
	w.buf = nil
}

// send writes the headers if they are not out yet, then p as DATA frames
// as the client's flow-control windows allow; end ends the stream. The
// headers share a lock (and so a socket write) with the first frame.
func (w *responseWriter) send(p []byte, end bool) error {
	st, c := w.st, w.st.c
	headers := !w.sentHeader
	if !headers && !end && len(p) == 0 {
		return nil
	}
	w.sentHeader = true
	length := -1
	if headers && end && !w.head {
		length = len(p)
	}
	for {
		n, err := st.takeWindow(len(p))
		if err != nil {
			return w.fail(err)
		}
		chunk, rest := p[:n], p[n:]
		withHeaders := headers
		err = c.write(false, func() error {
			if end && len(rest) == 0 {
				st.sentEnd.Store(true)
			}
			if withHeaders {
				if err := c.writeHeadersLocked(st.id, w.status, w.header, length, end && len(p) == 0); err != nil || len(p) == 0 {
					return err
				}
			}
			return c.fr.WriteData(st.id, end && len(rest) == 0, chunk)
		})
		if err != nil {
			return w.fail(err)
		}
		headers, p = false, rest
		if len(p) == 0 {
			return nil
		}
	}
}

// fail records err (when not nil) as the writer's sticky failure.
func (w *responseWriter) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// takeWindow waits until the stream and the connection may send, and
// takes up to want bytes of both windows (at most a frame); want 0 takes
// nothing and does not wait. A wait past the stream's write deadline
// resets the stream.
func (st *stream) takeWindow(want int) (int, error) {
	if want == 0 {
		return 0, nil
	}
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		switch {
		case c.closed:
			return 0, errConnClosed
		case st.reset:
			return 0, errStreamReset
		}
		n := min(int64(want), st.sendWin, c.sendWin, int64(c.maxFrame.Load()))
		if n > 0 {
			st.sendWin -= n
			c.sendWin -= n
			return int(n), nil
		}
		if !st.writeBy.IsZero() {
			wait := time.Until(st.writeBy)
			if wait <= 0 {
				st.resetLocked(errWriteTimeout)
				go c.sendReset(st, http2.ErrCodeCancel) // write takes c.wmu
				return 0, errWriteTimeout
			}
			if timer == nil {
				timer = time.AfterFunc(wait, func() {
					c.mu.Lock()
					c.flow.Broadcast()
					c.mu.Unlock()
				})
			}
		}
		c.flow.Wait()
	}
}

// Response headers never sent over HTTP/2 (RFC 9113 §8.2.2).
var connectionHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Upgrade": true,
}

// writeHeadersLocked encodes and writes a response's HEADERS frame (and
// CONTINUATION frames when the block exceeds the peer's frame size), adding
// Date, and Content-Length when length is not negative and the handler set
// none. c.wmu must be held.
func (c *conn) writeHeadersLocked(id uint32, status int, h http.Header, length int, end bool) error {
	c.hbuf.Reset()
	enc := c.henc
	if err := enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)}); err != nil {
		return err
	}
	for k, vs := range h {
		if connectionHeaders[k] {
			continue
		}
		name := c.lowerLocked(k)
		for _, v := range vs {
			if err := enc.WriteField(hpack.HeaderField{Name: name, Value: v}); err != nil {
				return err
			}
		}
	}
	if _, ok := h["Date"]; !ok {
		if err := enc.WriteField(hpack.HeaderField{Name: "date", Value: httpDate()}); err != nil {
			return err
		}
	}
	if _, ok := h["Content-Length"]; !ok && length >= 0 {
		if err := enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(length)}); err != nil {
			return err
		}
	}
	block := c.hbuf.Bytes()
	max := int(c.maxFrame.Load())
	first := min(len(block), max)
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:first], EndStream: end, EndHeaders: first == len(block)})
	for block = block[first:]; err == nil && len(block) > 0; {
		n := min(len(block), max)
		err = c.fr.WriteContinuation(id, n == len(block), block[:n])
		block = block[n:]
	}
	return err
}

// lowerLocked returns a header name in lower case, as HTTP/2 sends it,
// remembering the connection's names. c.wmu must be held.
func (c *conn) lowerLocked(name string) string {
	if l, ok := c.lower[name]; ok {
		return l
	}
	b := []byte(name)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	l := string(b)
	if len(c.lower) < 256 {
		c.lower[name] = l
	}
	return l
}

// statusText returns status as the :status value.
func statusText(status int) string {
	if status == http.StatusOK {
		return "200"
	}
	return strconv.Itoa(status)
}

// dateCache holds the Date header of the current second.
var dateCache atomic.Pointer[cachedDate]

type cachedDate struct {
	unix int64
	text string
}

// httpDate returns the current time as an HTTP Date header value.
func httpDate() string {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.unix == now.Unix() {
		return d.text
	}
	d := &cachedDate{unix: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}
