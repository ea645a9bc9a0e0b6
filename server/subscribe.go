package server

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/wire"
	"github.com/valyala/fasthttp"
)

// subscribeTarget is the X-Amz-Target of SubscribeToShard, which both
// transport adapters route to their streaming path before the operation
// table: its response is an event stream, not one body.
const subscribeTarget = targetPrefix + "SubscribeToShard"

// subscribeFast is the fasthttp (HTTP/1.1) adapter of SubscribeToShard:
// the events go out as a chunked body, one flushed chunk per message (see
// subscribeBody). It returns false, having done nothing, for requests the
// ordinary path must answer (wrong method or content type).
func (s *Server) subscribeFast(ctx *fasthttp.RequestCtx, x *exchange) bool {
	c, ok := s.subscribeCodec(x)
	if !ok {
		return false
	}
	sub, err := s.decodeSubscribe(x, c)
	if err != nil {
		s.fail(x, c, s.svc.ToAPIError("SubscribeToShard", err))
		s.writeFast(ctx, x.status, x.respContentType, x.out)
		return true
	}
	// A subscription outlives WriteTimeout; a zero deadline set by the
	// handler tells fasthttp not to impose its own.
	_ = ctx.SetWriteDeadline(time.Time{})
	var id [40]byte
	ctx.Response.Header.SetBytesV("X-Amzn-Requestid", s.requestID(id[:0]))
	ctx.Response.Header.SetContentType(wire.EventStreamContentType)
	ctx.SetStatusCode(http.StatusOK)
	ctx.Response.SetBodyStream(&subscribeBody{s: s, sub: sub, c: c}, -1)
	return true
}

// subscribeBody is the body stream of a SubscribeToShard response over
// HTTP/1.1. fasthttp frames a body of unknown size as chunks and, since it
// is a fasthttp.BodyWriterTo, calls WriteTo on the connection's goroutine
// with a writer that makes each Write one chunk and flushes it: the
// subscription is pumped straight onto the connection, each message one
// chunk. (ctx.SetBodyStreamWriter would run it on another goroutine and
// copy every byte through a pipe twice, cut into flushed 4 KiB chunks.)
// Read, for any other consumer, falls back to that pipe; Close of a body
// never written ends the subscription. It is used by one goroutine at a
// time.
type subscribeBody struct {
	s   *Server
	sub *ops.Subscription
	c   wire.Codec
	ran bool          // Pump was started
	r   io.ReadCloser // Read's pipe, once Read is called
}

func (b *subscribeBody) SupportsBodyWriteTo() bool { return true }

// WriteTo runs the subscription until it ends, writing each message with
// one Write, and returns the bytes written and the write error that ended
// it, if one did.
func (b *subscribeBody) WriteTo(w io.Writer) (int64, error) {
	if b.ran {
		return 0, errors.New("subscribe: body already written")
	}
	b.ran = true
	var n int64
	var werr error
	flush := func() error { return nil } // fasthttp's chunk writer flushes each Write
	if f, ok := w.(interface{ Flush() error }); ok {
		flush = f.Flush
	}
	b.s.svc.Pump(b.sub, b.c, ops.Sink{
		Write: func(p []byte) error {
			m, err := w.Write(p)
			n += int64(m)
			werr = err
			return err
		},
		Flush: flush,
	})
	return n, werr
}

// Read reads the body through a pipe written by Pump on its own goroutine.
func (b *subscribeBody) Read(p []byte) (int, error) {
	if b.r == nil {
		if b.ran {
			return 0, io.EOF
		}
		b.ran = true
		b.r = fasthttp.NewStreamReader(func(bw *bufio.Writer) {
			b.s.svc.Pump(b.sub, b.c, ops.Sink{
				Write: func(p []byte) error { _, err := bw.Write(p); return err },
				Flush: bw.Flush,
			})
		})
	}
	return b.r.Read(p)
}

// Close stops the pipe of Read, or, when the body was never written, ends
// the subscription and frees its slot (Pump fails its first write).
func (b *subscribeBody) Close() error {
	if b.r != nil {
		return b.r.Close()
	}
	if !b.ran {
		b.ran = true
		b.s.svc.Pump(b.sub, b.c, ops.Sink{
			Write: func([]byte) error { return errBodyClosed },
			Flush: func() error { return nil },
		})
	}
	return nil
}

// errBodyClosed fails the writes of a subscription whose response body was
// closed before it was written.
var errBodyClosed = errors.New("subscribe: response body closed")

// subscribeHTTP is the net/http adapter (HTTP/2, server/h2) of SubscribeToShard: one
// DATA frame per message, and the subscription ends when the client resets
// the stream.
func (s *Server) subscribeHTTP(w http.ResponseWriter, r *http.Request, x *exchange) bool {
	c, ok := s.subscribeCodec(x)
	if !ok {
		return false
	}
	var id [40]byte
	h := w.Header()
	h["X-Amzn-Requestid"] = []string{string(s.requestID(id[:0]))}
	sub, err := s.decodeSubscribe(x, c)
	if err != nil {
		s.fail(x, c, s.svc.ToAPIError("SubscribeToShard", err))
		h["Content-Type"] = []string{x.respContentType}
		h["Content-Length"] = []string{strconv.Itoa(len(x.out))}
		w.WriteHeader(x.status)
		_, _ = w.Write(x.out)
		return true
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h["Content-Type"] = []string{wire.EventStreamContentType}
	w.WriteHeader(http.StatusOK)
	s.svc.Pump(sub, c, ops.Sink{
		Write: func(b []byte) error { _, err := w.Write(b); return err },
		Flush: rc.Flush,
		Gone:  r.Context().Done(),
	})
	return true
}

// subscribeCodec returns the codec of a SubscribeToShard request, or false
// when the ordinary path should answer it (and its errors).
func (s *Server) subscribeCodec(x *exchange) (wire.Codec, bool) {
	if x.method != http.MethodPost {
		return nil, false
	}
	return wire.RequestCodec(x.contentType)
}

// decodeSubscribe checks the signature and reads the body, then decodes,
// authorizes (against the consumer ARN) and starts a subscription. The body is given back before
// the subscription starts: it is decoded into copies.
func (s *Server) decodeSubscribe(x *exchange, c wire.Codec) (*ops.Subscription, error) {
	defer s.finish(x)
	cred, authErr := s.admit(x, ops.SubscribeOp)
	if authErr != nil {
		return nil, authErr
	}
	return s.svc.SubscribeToShard(cred, x.peer, c, x.body)
}
