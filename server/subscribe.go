package server

import (
	"bufio"
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
// the events go out as a chunked body, flushed one message at a time. It
// returns false, having done nothing, for requests the ordinary path must
// answer (wrong method or content type).
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
	ctx.SetBodyStreamWriter(func(bw *bufio.Writer) {
		s.svc.Pump(sub, c, ops.Sink{
			Write: func(b []byte) error { _, err := bw.Write(b); return err },
			Flush: bw.Flush,
		})
	})
	return true
}

// subscribeHTTP is the net/http (HTTP/2) adapter of SubscribeToShard: one
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
