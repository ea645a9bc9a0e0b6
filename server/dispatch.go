package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"
)

// targetPrefix is the service part of every X-Amz-Target.
const targetPrefix = ops.TargetPrefix

// exchange is one request and its response as both transports see them.
// The transport fills the request fields, calls Server.handle, and writes
// status, contentType and body. Strings may alias transport buffers: they
// are only used during handle.
type exchange struct {
	method      string
	target      string // X-Amz-Target
	contentType string // request Content-Type
	// body is the request body: read by readBody from bodySrc, or given
	// whole by transports that have it already (bodySrc nil).
	body    []byte
	bodySrc io.Reader
	// contentLength is the declared body length, -1 when unknown.
	contentLength int
	// headers gives signature verification the rest of the request; nil
	// for transports that have none (auth mode sigv4 then refuses).
	headers sigv4.Headers
	// ctx ends when the client goes away or the server shuts down.
	ctx context.Context
	// peer is the client's connection, for policy conditions.
	peer policy.Peer
	// operator marks a request from the admin listener, which is served
	// without signature or policy checks (admin.go).
	operator bool

	status          int
	respContentType string
	out             []byte // response body, appended to a pooled buffer
	// stream, when set, is the response body instead of out: a large
	// answer encoded while it is written. The transport writes and closes
	// it (closeStream when nothing will).
	stream *wire.Stream
	// closeConn tells the transport to close the connection after the
	// response: the body was refused unread.
	closeConn bool
	// gone marks a client that went away or stalled mid-body.
	gone bool

	inBuf  *[]byte // pooled buffer holding body (readBody)
	budget int64   // bytes of the body budget held (readBody)
}

// errUnauthorizable is AWS's answer when it cannot tell which operation a
// request is for.
var errUnauthorizable = &wire.APIError{Type: wire.AccessDenied, Message: "Unable to determine service/operation name to be authorized", HTTPStatus: http.StatusForbidden}

// handle runs one request through the operation table and fills the
// response fields of x. It follows the AWS front end's order of checks:
// method, content type, empty body, operation name, body syntax, then the
// operation itself (validation, then resources).
func (s *Server) handle(x *exchange) {
	debug := s.log.Debug().Enabled()
	var start time.Time // read only for the debug log: a clock read per request otherwise
	if debug {
		start = time.Now()
	}
	op := s.route(x)
	if debug {
		name := "-"
		if op != nil {
			name = op.Name
		}
		s.log.Debug().Str("op", name).Int("status", x.status).Int("bytes", len(x.body)).Dur("took", time.Since(start)).Msg("request")
	}
}

// route is handle without the access log; it returns the operation run, if
// any.
func (s *Server) route(x *exchange) *ops.Operation {
	c, known := wire.RequestCodec(x.contentType)
	op := s.ops[x.target]
	if x.method != http.MethodPost {
		s.fail(x, c, errUnauthorizable)
		return nil
	}
	if !known {
		if !strings.Contains(x.target, ".") {
			s.fail(x, wire.JSON{}, errUnauthorizable)
			return nil
		}
		s.fail(x, wire.JSON{}, &wire.APIError{Type: wire.UnknownOperation, HTTPStatus: http.StatusNotFound})
		return nil
	}
	if op == nil {
		if e := s.readBody(x, controlBodyBytes); e != nil {
			s.fail(x, c, e)
			return nil
		}
		if len(x.body) > 0 && !c.WellFormed(x.body) {
			s.fail(x, c, &wire.APIError{Type: wire.Serialization})
			return nil
		}
		s.fail(x, c, &wire.APIError{Type: wire.UnknownOperation})
		return nil
	}
	// AWS checks the signature here: after the operation is known, before
	// the body is decoded; authorization follows decoding, in op.call.
	cred, authErr := s.admit(x, op)
	if authErr != nil {
		s.fail(x, c, authErr)
		return op
	}
	if s.svc.InjectError() {
		s.fail(x, c, ops.ErrInjected)
		return op
	}
	out, stream, err := s.call(op, cred, c, x)
	if err != nil {
		s.fail(x, c, s.svc.ToAPIError(op.Name, err))
		return op
	}
	if stream != nil {
		stream.Guard(&s.streams)
	}
	x.status, x.respContentType, x.out, x.stream = http.StatusOK, c.ContentType(), out, stream
	return op
}

// admit checks x's credentials and reads its body: first everything the
// headers tell (signature scope, key, clock, signed headers, declared
// length), so that a request without valid credentials is refused before
// its body is read; then the body, under op's limit and the body budget;
// then the signature over it. Under auth mode none only the shape of the
// credentials is checked (sigv4.CheckShape), unless Auth.AcceptUnsigned. It
// returns the verified key (nil in auth mode none) or the error to answer.
func (s *Server) admit(x *exchange, op *ops.Operation) (*sigv4.Credential, *wire.APIError) {
	var pending *sigv4.Pending
	if kr := s.auth.Load(); kr != nil && !kr.Unsigned && !x.operator {
		var e *wire.APIError
		switch {
		case !kr.SigV4:
			e = sigv4.CheckShape(x.headers)
		case x.headers == nil:
			e = sigv4.ErrNoAuth
		default:
			pending, e = sigv4.CheckHeaders(x.headers, kr, s.store.Options().Region, s.opts.Now())
		}
		if e != nil {
			s.metrics.Unauthenticated.Inc()
			x.closeConn = x.bodySrc != nil
			return nil, e
		}
	}
	if e := s.readBody(x, s.bodyLimit(op)); e != nil {
		return nil, e
	}
	if pending == nil {
		return nil, nil
	}
	return pending.Verify(x.method, x.headers, s.store.Options().Region, x.body)
}

// call runs op on x's body. A panic in it is a bug in one request, never
// the daemon's end: it is logged with its stack, counted in
// shardlog_panics_total and returned as an error (InternalFailure).
func (s *Server) call(op *ops.Operation, cred *sigv4.Credential, c wire.Codec, x *exchange) (out []byte, stream *wire.Stream, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, stream, err = x.out, nil, s.recovered(op.Name, p)
		}
	}()
	return op.Call(s.svc, op, cred, x.peer, c, x.body, x.out)
}

// closeStream closes x's stream, if any, when no transport will write it.
func (x *exchange) closeStream() {
	if x.stream != nil {
		_ = x.stream.Close()
		x.stream = nil
	}
}

// recovered logs and counts a recovered panic and returns it as an error.
func (s *Server) recovered(op string, p any) error {
	s.metrics.Panics.Inc()
	s.log.Error().Str("op", op).Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("request panicked; answered InternalFailure")
	return fmt.Errorf("panic in %s: %v", op, p)
}

// fail fills x with an error response.
func (s *Server) fail(x *exchange, c wire.Codec, e *wire.APIError) {
	x.status = e.Status()
	x.respContentType = c.ContentType()
	x.out = c.EncodeError(x.out[:0], e)
}
