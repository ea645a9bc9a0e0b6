package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/shardlog/shardlog/server/console"
	"github.com/shardlog/shardlog/server/h2"
	"github.com/shardlog/shardlog/server/listener"
	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/shard"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/semaphore"
)

// Server answers the Kinesis API for one shard.Store over HTTP/1.1
// (fasthttp) and cleartext HTTP/2 with prior knowledge (server/h2), both on
// the same listener. Its methods are safe for concurrent use. A Server does
// not own the Store: close the Store after Shutdown returns.
type Server struct {
	store *shard.Store
	opts  Options
	log   zerolog.Logger

	// ops maps an X-Amz-Target to its operation (ops.Operations; a test
	// may add one of its own before serving).
	ops map[string]*ops.Operation
	// svc runs the operations, and holds everything they share.
	svc *ops.Service
	// streams guards the response streams (large GetRecords pages), which
	// encode from mapped segments after their handler returned: Shutdown
	// closes it, so that none reads a segment once the store may close.
	streams wire.Gate
	// console serves the web console under /console; nil when
	// Options.Console is off.
	console *console.Console

	fast     *fasthttp.Server
	h2       *h2.Server
	adminSrv *fasthttp.Server // ServeAdmin's (admin.go)
	conns    chan struct{}    // connection slots, MaxConns of them
	// h2conns are the HTTP/2 connection slots: MaxInflightBodyBytes over
	// h2WindowBytes of them (body.go).
	h2conns chan struct{}

	requestIDPrefix string
	requestSeq      atomic.Uint64
	closing         atomic.Bool

	ready   atomic.Bool                   // /readyz answers 200 (health.go)
	metrics *metrics.Registry             // /metrics, shared with svc
	auth    atomic.Pointer[sigv4.Keyring] // access control (auth.go); SetAuth swaps it
	bodies  *semaphore.Weighted           // the in-flight body budget (body.go)
}

// New returns a Server for store. It serves nothing until Serve is called.
func New(store *shard.Store, opts Options) *Server {
	opts = opts.withDefaults()
	opts.TLS = listener.TLSConfig(opts.TLS)
	s := &Server{
		store:   store,
		opts:    opts,
		ops:     ops.Operations(),
		log:     opts.Logger.With().Str("component", "server").Logger(),
		conns:   make(chan struct{}, opts.MaxConns),
		metrics: metrics.New(),
		bodies:  newBodyBudget(opts),
		h2conns: make(chan struct{}, max(1, opts.MaxInflightBodyBytes/h2WindowBytes)),
	}
	s.svc = ops.New(store, ops.Options{
		Logger:                 s.log,
		IteratorTTL:            opts.IteratorTTL,
		ShardLimit:             opts.ShardLimit,
		OnDemandStreamLimit:    opts.OnDemandStreamLimit,
		SubscriptionLifetime:   opts.SubscriptionLifetime,
		SubscriptionHeartbeat:  opts.SubscriptionHeartbeat,
		SubscribeRetryInterval: opts.SubscribeRetryInterval,
		Now:                    opts.Now,
	}, s.metrics, opts.Limits)
	s.SetAuth(opts.Auth)
	if opts.Console {
		s.console = console.New(store, s.log)
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	h := hex.EncodeToString(id[:])
	s.requestIDPrefix = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-"
	s.fast = s.newFastServer(s.serveFast)
	s.fast.HeaderReceived = toleratedHost // the API port only (host.go)
	s.adminSrv = s.newFastServer(s.serveAdmin)
	s.h2 = &h2.Server{
		Handler:      s.Handler(),
		Window:       h2WindowBytes,
		ReadTimeout:  opts.ReadTimeout,
		WriteTimeout: opts.WriteTimeout,
		IdleTimeout:  opts.IdleTimeout,
		Log:          s.log.With().Str("transport", "h2").Logger(),
	}
	return s
}

// Serve serves ln until Shutdown: HTTP/2 connections (those opening with
// the client preface, or with Options.TLS those that negotiated h2)
// through server/h2, everything else through fasthttp.
// It closes ln when it returns. After Shutdown it returns nil; otherwise
// the error that stopped accepting. Serve may be called for several
// listeners at once.
func (s *Server) Serve(ln net.Listener) error {
	sl := listener.NewSplit(ln, s.opts.TLS, s.conns, s.h2conns, s.opts.ReadTimeout, func(err error, warn bool) {
		s.metrics.AcceptErrors.Inc()
		if warn {
			s.log.Warn().Err(err).Msg("cannot accept connections (out of file descriptors?); backing off, open connections are still served")
		}
	}, s.metrics.H2ConnsRefused.Inc)
	h2done := make(chan error, 1)
	go func() { h2done <- s.h2.Serve(sl.H2()) }()
	err := s.fast.Serve(sl)
	sl.Close()
	if h2err := <-h2done; err == nil && !errors.Is(h2err, http.ErrServerClosed) && !errors.Is(h2err, net.ErrClosed) {
		err = h2err
	}
	if s.closing.Load() || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets requests in flight finish, and closes
// every connection; it returns ctx's error if that takes longer than ctx
// allows. Either way, once it returns no response reads the store: a large
// page still being written to a slow client then fails, and the store may
// close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.svc.Close() // streaming responses end, so their connections can close
	s.console.Close()
	var wg sync.WaitGroup
	var h2err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		h2err = s.h2.Shutdown(ctx)
	}()
	err := errors.Join(s.fast.ShutdownWithContext(ctx), s.adminSrv.ShutdownWithContext(ctx))
	wg.Wait()
	// Past ctx, connections may still be writing: their streams end here.
	s.streams.Close()
	if err == nil {
		err = h2err
	}
	return err
}

// Handler returns the net/http adapter of the server: server/h2 serves
// HTTP/2 connections with it, and tests may mount it on an
// httptest.Server. It is safe for concurrent use.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// RequestHandler returns the fasthttp adapter of the server, for tests that
// drive fasthttp in memory. It is safe for concurrent use.
func (s *Server) RequestHandler() fasthttp.RequestHandler { return s.serveFast }

// requestID returns a new x-amzn-RequestId, unique within this process.
func (s *Server) requestID(dst []byte) []byte {
	dst = append(dst, s.requestIDPrefix...)
	n := s.requestSeq.Add(1)
	var digits [12]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = wire.HexDigits[n&0xf]
		n >>= 4
	}
	return append(dst, digits[:]...)
}

// newFastServer returns the HTTP/1.1 server of one listener.
func (s *Server) newFastServer(h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:      h,
		ErrorHandler: s.fastError,
		Name:         "shardlog",
		ReadTimeout:  s.opts.ReadTimeout,
		WriteTimeout: s.opts.WriteTimeout,
		IdleTimeout:  s.opts.IdleTimeout,
		// Bodies are streamed, read by the handler after the headers are
		// checked (body.go). fasthttp reads min(MaxRequestBodySize, 8 KiB)
		// of a body before calling the handler: 1 keeps that to one byte
		// (the limits are enforced by readBody).
		StreamRequestBody:            true,
		MaxRequestBodySize:           1,
		DisablePreParseMultipartForm: true, // never buffer a form
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       fastLogger{s.log},
	}
}

// serveFast is the fasthttp adapter.
func (s *Server) serveFast(ctx *fasthttp.RequestCtx) {
	// fasthttp does not recover handler panics: the last resort for code
	// outside an operation (operations recover in Server.call).
	defer func() {
		if p := recover(); p != nil {
			s.failFast(ctx, s.svc.ToAPIError("-", s.recovered("-", p)))
		}
	}()
	if s.serveOperatorFast(ctx) { // health, and under adminOnAPI /metrics and the console
		return
	}
	s.serveAPIFast(ctx, false)
}

// serveAPIFast answers a Kinesis API request over HTTP/1.1; operator marks
// the admin listener's.
func (s *Server) serveAPIFast(ctx *fasthttp.RequestCtx, operator bool) {
	if !operator && s.corsFast(ctx) {
		return
	}
	buf := wire.GetBuffer()
	x := exchange{
		method:        wire.B2S(ctx.Method()),
		target:        wire.B2S(ctx.Request.Header.Peek("X-Amz-Target")),
		contentType:   wire.B2S(ctx.Request.Header.ContentType()),
		contentLength: ctx.Request.Header.ContentLength(),
		headers:       (*sigv4.FastHeaders)(ctx),
		ctx:           ctx,
		peer:          policy.Peer{Addr: ctx.RemoteAddr(), TLS: ctx.IsTLS()},
		operator:      operator,
		out:           (*buf)[:0],
	}
	if src := ctx.RequestBodyStream(); src != nil {
		x.bodySrc = src
	} else {
		x.body = ctx.PostBody() // a request built in memory
	}
	if x.contentLength < 0 { // -1 chunked, -2 identity (none for requests)
		x.contentLength = -1
	}
	if x.target == subscribeTarget && s.subscribeFast(ctx, &x) {
		s.finish(&x)
		wire.PutBuffer(buf, x.out)
		return
	}
	s.handle(&x)
	if x.closeConn {
		// The body was refused unread: close gracefully, so that a client
		// still sending it reads this answer rather than a reset.
		ctx.SetConnectionClose()
		listener.LingerOnClose(ctx.Conn())
	}
	s.writeHeaderFast(ctx, x.status, x.respContentType)
	s.finish(&x)
	if x.stream != nil {
		// fasthttp writes each chunk as the stream encodes it, then
		// closes the stream.
		ctx.Response.SetBodyStream(x.stream, x.stream.Size())
		wire.PutBuffer(buf, x.out)
		return
	}
	setBodyFast(ctx, buf, x.out)
}

func (s *Server) writeFast(ctx *fasthttp.RequestCtx, status int, contentType string, body []byte) {
	s.writeHeaderFast(ctx, status, contentType)
	ctx.Response.SetBody(body)
}

func (s *Server) writeHeaderFast(ctx *fasthttp.RequestCtx, status int, contentType string) {
	var id [40]byte
	ctx.Response.Header.SetBytesV("X-Amzn-Requestid", s.requestID(id[:0]))
	ctx.Response.Header.SetContentType(contentType)
	ctx.SetStatusCode(status)
}

// streamBodyMin is the response size from which setBodyFast hands fasthttp
// the encoded buffer itself instead of a copy.
const streamBodyMin = 64 << 10

// setBodyFast makes out, encoded in the pooled buffer buf, the response
// body, and gives buf back to the pool once it is no longer needed. A small
// body is copied into the response; a large one (a GetRecords page in CBOR;
// JSON pages are streamed, see wire.Stream) is written from out itself,
// which goes back to the pool when fasthttp closes the body stream after
// writing it, or drops it.
func setBodyFast(ctx *fasthttp.RequestCtx, buf *[]byte, out []byte) {
	if len(out) < streamBodyMin {
		ctx.Response.SetBody(out)
		wire.PutBuffer(buf, out)
		return
	}
	b := pooledBodies.Get().(*pooledBody)
	b.Reset(out)
	b.buf, b.used = buf, out
	ctx.Response.SetBodyStream(b, len(out))
}

// pooledBody is a response body read from a pooled buffer; fasthttp closes
// it (io.Closer) when the response is written or reset.
type pooledBody struct {
	bytes.Reader
	buf  *[]byte
	used []byte
}

var pooledBodies = sync.Pool{New: func() any { return new(pooledBody) }}

// Close returns the buffer and the reader to their pools.
func (b *pooledBody) Close() error {
	if b.buf != nil {
		wire.PutBuffer(b.buf, b.used)
	}
	b.Reset(nil)
	b.buf, b.used = nil, nil
	pooledBodies.Put(b)
	return nil
}

// fastError answers requests fasthttp could not read with a JSON error, as
// AWS clients expect a body they can parse. (Bodies are streamed, so
// fasthttp never refuses one for its size: readBody does.)
func (s *Server) fastError(ctx *fasthttp.RequestCtx, err error) {
	e := &wire.APIError{Type: wire.Serialization, Message: "The request could not be parsed as HTTP."}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		e = &wire.APIError{Type: wire.RequestTimeout, Message: "The request was not received within the read timeout."}
	}
	s.failFast(ctx, e)
}

// failFast answers e outside an exchange, in the codec of the request's
// Content-Type (JSON for any other type).
func (s *Server) failFast(ctx *fasthttp.RequestCtx, e *wire.APIError) {
	c, _ := wire.RequestCodec(wire.B2S(ctx.Request.Header.ContentType()))
	s.writeFast(ctx, e.Status(), c.ContentType(), c.EncodeError(nil, e))
}

// serveHTTP is the net/http adapter, used for HTTP/2 (server/h2).
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveOperatorHTTP(w, r) || s.corsHTTP(w, r) {
		return
	}
	out := wire.GetBuffer()
	x := exchange{
		method:        r.Method,
		target:        r.Header.Get("X-Amz-Target"),
		contentType:   r.Header.Get("Content-Type"),
		contentLength: int(min(r.ContentLength, math.MaxInt32)),
		bodySrc:       r.Body,
		headers:       (*sigv4.HTTPHeaders)(r),
		ctx:           r.Context(),
		peer:          policy.Peer{Remote: r.RemoteAddr, TLS: r.TLS != nil},
		out:           (*out)[:0],
	}
	defer s.finish(&x)
	if x.target == subscribeTarget && s.subscribeHTTP(w, r, &x) {
		wire.PutBuffer(out, x.out)
		return
	}
	s.handle(&x)
	defer x.closeStream()
	if x.gone {
		// The client went away or timed out mid-body; nobody reads an answer.
		wire.PutBuffer(out, x.out)
		return
	}
	var id [40]byte
	h := w.Header()
	h["X-Amzn-Requestid"] = []string{string(s.requestID(id[:0]))}
	h["Content-Type"] = []string{x.respContentType}
	if x.stream != nil {
		h["Content-Length"] = []string{strconv.Itoa(x.stream.Size())}
		w.WriteHeader(x.status)
		_, _ = x.stream.WriteTo(w)
		wire.PutBuffer(out, x.out)
		return
	}
	h["Content-Length"] = []string{strconv.Itoa(len(x.out))}
	w.WriteHeader(x.status)
	_, _ = w.Write(x.out)
	wire.PutBuffer(out, x.out)
}

// fastLogger routes fasthttp's own messages to zerolog at debug level
// (they are about misbehaving connections, not server failures).
type fastLogger struct{ log zerolog.Logger }

func (l fastLogger) Printf(format string, args ...any) { l.log.Debug().Msgf(format, args...) }

// Metrics returns the server's metric set, for the caller to add its own
// (storage, recovery, process). /metrics writes the whole set. Safe for
// concurrent use.
func (s *Server) Metrics() *vm.Set { return s.metrics.Set() }
