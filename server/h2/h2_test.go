package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/summerwind/h2spec"
	"github.com/summerwind/h2spec/config"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// serve starts s (its zero fields defaulted by the server) on a loopback
// listener and returns the address; the test shuts it down.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Log = zerolog.Nop()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

// h2cClient is net/http's HTTP/2 client with prior knowledge.
func h2cClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: p}, Timeout: 30 * time.Second}
}

// echoSum answers a request with its body's length and SHA-256, then
// size (a query parameter, default 100) bytes of a known pattern.
var echoSum = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	size, err := strconv.Atoi(r.URL.Query().Get("size"))
	if err != nil {
		size = 100 // h2spec expects DATA frames in answers
	}
	w.Header().Set("X-Body", fmt.Sprintf("%d %x", n, h.Sum(nil)))
	_, _ = w.Write(pattern(size))
})

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// TestConformance runs h2spec, the HTTP/2 conformance suite (RFC 7540 and
// 7541 cases: framing, stream states, flow control, settings, HPACK),
// against the server.
func TestConformance(t *testing.T) {
	addr := serve(t, &Server{Handler: echoSum})
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ok, err := h2spec.Run(&config.Config{Host: host, Port: p, Path: "/", Timeout: 2 * time.Second, MaxHeaderLen: 4000})
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("h2spec reported failures (above)")
	}
}

// TestLargeBodiesBothWays sends bodies and answers many times larger than
// the flow-control windows, on concurrent streams of one connection: every
// byte must arrive intact, which needs the server to give credit back as
// its handlers read, and to wait for the client's credit as it writes.
func TestLargeBodiesBothWays(t *testing.T) {
	addr := serve(t, &Server{Handler: echoSum, Window: initialWindow})
	c := h2cClient()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := pattern(1<<20 + i*4099)
			size := 3<<20 + i*1000
			resp, err := c.Post(fmt.Sprintf("http://%s/?size=%d", addr, size), "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Error(err)
				return
			}
			sum := sha256.Sum256(body)
			if want := fmt.Sprintf("%d %x", len(body), sum); resp.Header.Get("X-Body") != want {
				t.Errorf("stream %d: server read %q, want %q", i, resp.Header.Get("X-Body"), want)
			}
			if !bytes.Equal(got, pattern(size)) {
				t.Errorf("stream %d: answer of %d bytes differs from the %d sent", i, len(got), size)
			}
			if resp.ProtoMajor != 2 {
				t.Errorf("answered over %s", resp.Proto)
			}
		}()
	}
	wg.Wait()
}

// rawConn is a client speaking frames, for what net/http's client will not
// do (reset streams, starve windows, exceed limits).
type rawConn struct {
	t    *testing.T
	nc   net.Conn
	fr   *http2.Framer
	hbuf bytes.Buffer
	henc *hpack.Encoder
}

// dialRaw connects, exchanges prefaces and settings (the client's are
// settings) and returns once the server's SETTINGS arrived.
func dialRaw(t *testing.T, addr string, settings ...http2.Setting) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawConn{t: t, nc: nc, fr: http2.NewFramer(nc, nc)}
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	if _, err := io.WriteString(nc, clientPreface); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	for {
		f := c.read()
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if err := c.fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// request opens stream id with a POST to path; end ends it at once.
func (c *rawConn) request(id uint32, path string, end bool, extra ...string) {
	c.t.Helper()
	if err := c.writeRequest(c.fr, id, path, end, extra...); err != nil {
		c.t.Fatal(err)
	}
}

// writeRequest encodes a request's HEADERS frame with the connection's
// HPACK encoder and writes it to fr.
func (c *rawConn) writeRequest(fr *http2.Framer, id uint32, path string, end bool, extra ...string) error {
	c.hbuf.Reset()
	fields := append([]string{":method", "POST", ":scheme", "http", ":authority", "test", ":path", path}, extra...)
	for i := 0; i < len(fields); i += 2 {
		_ = c.henc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndStream: end, EndHeaders: true})
}

func (c *rawConn) read() http2.Frame {
	c.t.Helper()
	f, err := c.fr.ReadFrame()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// waitFor reads frames until match accepts one, and returns it.
func (c *rawConn) waitFor(what string, match func(http2.Frame) bool) http2.Frame {
	c.t.Helper()
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(f) {
			return f
		}
	}
}

// reset waits for a RST_STREAM of id and returns its code.
func (c *rawConn) reset(id uint32) http2.ErrCode {
	c.t.Helper()
	f := c.waitFor("RST_STREAM", func(f http2.Frame) bool {
		r, ok := f.(*http2.RSTStreamFrame)
		return ok && r.StreamID == id
	})
	return f.(*http2.RSTStreamFrame).ErrCode
}

// status waits for the response headers of id and returns :status.
func (c *rawConn) status(id uint32) string {
	c.t.Helper()
	f := c.waitFor("HEADERS", func(f http2.Frame) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		return ok && h.StreamID == id
	})
	return f.(*http2.MetaHeadersFrame).PseudoValue("status")
}

// blocking returns a handler that reports each request on started and
// returns when release is closed or the request's context ends (then it
// reports on cancelled).
func blocking() (h http.Handler, started, cancelled chan struct{}, release chan struct{}) {
	started, cancelled, release = make(chan struct{}, 16), make(chan struct{}, 16), make(chan struct{})
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
			_, _ = w.Write([]byte("done"))
		case <-r.Context().Done():
			cancelled <- struct{}{}
		}
	})
	return h, started, cancelled, release
}

func within(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
}

// TestClientResetCancelsHandler: RST_STREAM from the client cancels the
// handler's context.
func TestClientResetCancelsHandler(t *testing.T) {
	h, started, cancelled, release := blocking()
	defer close(release)
	c := dialRaw(t, serve(t, &Server{Handler: h}))
	c.request(1, "/", true)
	within(t, started, "handler start")
	if err := c.fr.WriteRSTStream(1, http2.ErrCodeCancel); err != nil {
		t.Fatal(err)
	}
	within(t, cancelled, "cancellation")
}

// TestConcurrencyLimit: streams past MaxConcurrentStreams are refused, a
// stream reset by the client still counts until its handler returns (so
// rapid resets cannot pile up work), and a client that keeps opening
// streams past the limit is sent away.
func TestConcurrencyLimit(t *testing.T) {
	started, release := make(chan struct{}, 4), make(chan struct{})
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release // ignores cancellation: a handler slow to notice a reset
		_, _ = w.Write([]byte("done"))
	})
	c := dialRaw(t, serve(t, &Server{Handler: gate, MaxConcurrentStreams: 2}))
	c.request(1, "/", true)
	c.request(3, "/", true)
	within(t, started, "first handler")
	within(t, started, "second handler")
	_ = c.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	c.request(5, "/", true)
	if code := c.reset(5); code != http2.ErrCodeRefusedStream {
		t.Fatalf("third stream reset with %v, want REFUSED_STREAM", code)
	}
	close(release)
	if s := c.status(3); s != "200" {
		t.Fatalf("status %s", s)
	}
	c.request(7, "/", true) // the reset stream's handler has returned
	if s := c.status(7); s != "200" {
		t.Fatalf("after the handlers returned: status %s", s)
	}

	// Refused over and over: ENHANCE_YOUR_CALM.
	block := make(chan struct{})
	defer close(block)
	c2 := dialRaw(t, serve(t, &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }), MaxConcurrentStreams: 1}))
	// One socket write: the server may close the connection as soon as it
	// has read the first refused ones, and a later write would fail.
	var burst bytes.Buffer
	fr := http2.NewFramer(&burst, nil)
	for id := uint32(1); id < 20; id += 2 {
		_ = c2.writeRequest(fr, id, "/", true)
	}
	if _, err := c2.nc.Write(burst.Bytes()); err != nil {
		t.Fatal(err)
	}
	f := c2.waitFor("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if code := f.(*http2.GoAwayFrame).ErrCode; code != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("GOAWAY %v, want ENHANCE_YOUR_CALM", code)
	}
}

// TestBodyReadTimeout: a client that opens a request and never sends its
// body gets the stream reset after ReadTimeout; the handler's read fails.
func TestBodyReadTimeout(t *testing.T) {
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})
	c := dialRaw(t, serve(t, &Server{Handler: h, ReadTimeout: 200 * time.Millisecond}))
	began := time.Now()
	c.request(1, "/", false)
	if code := c.reset(1); code != http2.ErrCodeCancel {
		t.Fatalf("reset with %v, want CANCEL", code)
	}
	if err := <-readErr; !errors.Is(err, errBodyTimeout) {
		t.Fatalf("handler read %v", err)
	}
	if took := time.Since(began); took < 150*time.Millisecond || took > 3*time.Second {
		t.Fatalf("reset after %v, want about 200ms", took)
	}
}

// TestWriteTimeout: a client that grants no flow-control credit has its
// stream reset after WriteTimeout, and the handler's write fails.
func TestWriteTimeout(t *testing.T) {
	writeErr, release := make(chan error, 1), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := w.Write(pattern(100 << 10))
		if err == nil {
			err = http.NewResponseController(w).Flush()
		}
		writeErr <- err
		<-release // the reset must not wait for the handler to return
	})
	defer close(release)
	c := dialRaw(t, serve(t, &Server{Handler: h, WriteTimeout: 300 * time.Millisecond}),
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	c.request(1, "/", true)
	if code := c.reset(1); code != http2.ErrCodeCancel {
		t.Fatalf("reset with %v, want CANCEL", code)
	}
	if err := <-writeErr; !errors.Is(err, errWriteTimeout) {
		t.Fatalf("handler write: %v", err)
	}
}

// TestIdleTimeout: a connection without streams is closed after
// IdleTimeout; one with a running stream is not.
func TestIdleTimeout(t *testing.T) {
	h, started, _, release := blocking()
	c := dialRaw(t, serve(t, &Server{Handler: h, IdleTimeout: 200 * time.Millisecond}))
	c.request(1, "/", true)
	within(t, started, "handler start")
	time.Sleep(500 * time.Millisecond) // longer than IdleTimeout, with a stream open
	close(release)
	if s := c.status(1); s != "200" {
		t.Fatalf("status %s", s)
	}
	began := time.Now()
	for {
		if _, err := c.fr.ReadFrame(); err != nil {
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("connection ended with %v, want EOF", err)
			}
			break
		}
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("closed %v after going idle", took)
	}
}

// TestShutdownFinishesStreams: Shutdown sends GOAWAY, lets a running
// stream finish and answer, then returns.
func TestShutdownFinishesStreams(t *testing.T) {
	h, started, _, release := blocking()
	s := &Server{Handler: h, Log: zerolog.Nop()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c := dialRaw(t, ln.Addr().String())
	c.request(1, "/", true)
	within(t, started, "handler start")
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	f := c.waitFor("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if g := f.(*http2.GoAwayFrame); g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
		t.Fatalf("GOAWAY %v last %d, want NO_ERROR last 1", g.ErrCode, g.LastStreamID)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a stream running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if st := c.status(1); st != "200" {
		t.Fatalf("status %s", st)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}

// TestHandlerPanic resets the stream with INTERNAL_ERROR and keeps the
// connection serving.
func TestHandlerPanic(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write([]byte("ok"))
	})
	c := dialRaw(t, serve(t, &Server{Handler: h}))
	c.request(1, "/panic", true)
	if code := c.reset(1); code != http2.ErrCodeInternal {
		t.Fatalf("reset with %v, want INTERNAL_ERROR", code)
	}
	c.request(3, "/", true)
	if s := c.status(3); s != "200" {
		t.Fatalf("status %s", s)
	}
}

// TestHeadersTooLarge answers 431 to a header list over the limit.
func TestHeadersTooLarge(t *testing.T) {
	c := dialRaw(t, serve(t, &Server{Handler: echoSum}))
	fields := []string{":method", "GET", ":scheme", "http", ":authority", "test", ":path", "/"}
	for i := range 7 {
		fields = append(fields, fmt.Sprintf("x-big-%d", i), strings.Repeat("x", 8<<10))
	}
	// The last field takes the list past 64 KiB: the block ends with it,
	// so no frame follows the one that exceeds the limit.
	fields = append(fields, "x-last", strings.Repeat("y", 9<<10))
	c.hbuf.Reset()
	for i := 0; i < len(fields); i += 2 {
		_ = c.henc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	block := c.hbuf.Bytes()
	n := min(len(block), initialMaxFrame)
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:n], EndStream: true, EndHeaders: n == len(block)}); err != nil {
		t.Fatal(err)
	}
	for rest := block[n:]; len(rest) > 0; rest = rest[n:] {
		n = min(len(rest), initialMaxFrame)
		if err := c.fr.WriteContinuation(1, n == len(rest), rest[:n]); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.status(1); s != "431" {
		t.Fatalf("status %s, want 431", s)
	}
}

// TestPeerGoAway: a client's GOAWAY leaves the connection open for what
// the client still sends (closing it with frames unread would reset it),
// and Shutdown still closes such a connection at once.
func TestPeerGoAway(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	c := dialRaw(t, serve(t, s))
	_ = c.fr.WriteGoAway(0, http2.ErrCode(0xff), nil)
	_ = c.fr.WritePing(false, [8]byte{'g', 'o', 'n', 'e'})
	c.waitFor("PING ack", func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a connection the peer sent away: %v", err)
	}
}
