package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/wire"

	"golang.org/x/sync/semaphore"
)

// Request bodies are read only after everything the headers can tell has
// been checked (route): the operation is known, the signature's key, scope
// and clock are right, and the declared length is within the operation's
// limit. A client without valid credentials is answered before a byte of
// its body is read, and the connection is closed rather than drained.
//
// Reading is then bounded twice: by the operation's limit, whatever the
// client declared (a chunked body has no declared length), and by a
// daemon-wide budget of body bytes being read or held at once
// (Options.MaxInflightBodyBytes), taken before reading and given back when
// the response is written. A request that cannot get its share within
// bodyBudgetWait is answered ServiceUnavailable, which SDKs retry.

// controlBodyBytes is the body limit of every operation but PutRecord and
// PutRecords: their largest legal request (a 20 KiB resource policy, 50
// tags) is far smaller.
const controlBodyBytes = 1 << 20

// bodyBudgetWait is how long a request waits for its share of the body
// budget.
const bodyBudgetWait = 5 * time.Second

// h2WindowBytes is the HTTP/2 flow-control window granted per connection
// and per stream: the most a peer can make the transport buffer on one
// connection before a handler reads. At most MaxInflightBodyBytes over this
// HTTP/2 connections are open at once (1024 by default; the listener closes
// others), so what the transport buffers stays within the body budget too;
// an HTTP/1.1 connection buffers at most its 4 KiB read buffer. 256 KiB
// kept a 680 KB PutRecords over h2c as fast as a 1 MiB window did (BenchmarkPutRecordsLarge; 64 KiB cost 10-20%).
const h2WindowBytes = 256 << 10

// bodyLimit is the largest body op accepts.
func (s *Server) bodyLimit(op *ops.Operation) int {
	if op != nil && op.Body == ops.RecordsBody {
		return s.opts.MaxBodyBytes
	}
	return min(controlBodyBytes, s.opts.MaxBodyBytes)
}

// tooLarge is the answer to a body over the limit.
func tooLarge(limit int) *wire.APIError {
	return &wire.APIError{Type: wire.Validation, Message: "Request body exceeds the limit of " + strconv.Itoa(limit) + " bytes.", HTTPStatus: http.StatusRequestEntityTooLarge}
}

var errBodyBudget = &wire.APIError{Type: wire.ServiceUnavailable, Message: "The server is reading too many request bodies at once; retry."}

// errBodyTimeout answers a client that stalled or went away mid-body (it
// is marked gone: over HTTP/2 nobody reads the answer).
var errBodyTimeout = &wire.APIError{Type: wire.RequestTimeout, Message: "The request body was not received within the read timeout."}

// readBody reads x's body, at most limit bytes, into a pooled buffer
// counted against the body budget; finish gives both back.
func (s *Server) readBody(x *exchange, limit int) *wire.APIError {
	if x.bodySrc == nil {
		if len(x.body) > limit {
			return tooLarge(limit)
		}
		return nil
	}
	if x.contentLength > limit {
		x.closeConn = true
		return tooLarge(limit)
	}
	want := limit
	if x.contentLength >= 0 {
		want = x.contentLength
	}
	if err := s.takeBudget(x, int64(want)); err != nil {
		x.closeConn = true
		return err
	}
	x.inBuf = wire.GetBuffer()
	var err error
	if x.contentLength >= 0 {
		x.body = slices.Grow((*x.inBuf)[:0], want)[:want]
		_, err = io.ReadFull(x.bodySrc, x.body)
	} else {
		x.body, err = readLimited((*x.inBuf)[:0], x.bodySrc, limit)
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		x.closeConn = true
		return tooLarge(limit)
	case err != nil:
		x.closeConn, x.gone = true, true
		return errBodyTimeout
	}
	return nil
}

// doneOnly is a request's context with its Done, Err and Deadline but no
// values. fasthttp recycles the RequestCtx once the handler returns, and
// a context derived from it may still ask it for a value after that: the
// timer goroutine of context.WithTimeout looks its parent up with Value
// when it cancels, which the race detector caught against the
// RequestCtx's reset (TestBodyBudget). Wrapped only where a context is
// derived (takeBudget): the boxing allocates.
type doneOnly struct{ context.Context }

// Value returns nil: no value is read from a recycled request.
func (doneOnly) Value(any) any { return nil }

// takeBudget takes n bytes of the body budget for x, waiting up to
// bodyBudgetWait.
func (s *Server) takeBudget(x *exchange, n int64) *wire.APIError {
	if s.bodies.TryAcquire(n) {
		x.budget = n
		return nil
	}
	ctx := x.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(doneOnly{ctx}, bodyBudgetWait)
	defer cancel()
	if s.bodies.Acquire(ctx, n) != nil {
		s.metrics.BodyBudgetRefusals.Inc()
		return errBodyBudget
	}
	x.budget = n
	return nil
}

// finish gives back what reading x's body took: its buffer and its share
// of the budget. The transport calls it once the response is written.
func (s *Server) finish(x *exchange) {
	if x.inBuf != nil {
		wire.PutBuffer(x.inBuf, x.body)
		x.inBuf = nil
	}
	if x.budget > 0 {
		s.bodies.Release(x.budget)
		x.budget = 0
	}
}

var errBodyTooLarge = errors.New("server: request body too large")

// readLimited appends all of r to dst, failing with errBodyTooLarge past
// limit bytes.
func readLimited(dst []byte, r io.Reader, limit int) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// newBodyBudget returns the semaphore of in-flight body bytes: at least
// one request of the largest size fits.
func newBodyBudget(o Options) *semaphore.Weighted {
	return semaphore.NewWeighted(int64(max(o.MaxInflightBodyBytes, o.MaxBodyBytes)))
}
