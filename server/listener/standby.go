package listener

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/valyala/fasthttp"
)

// The operator paths the standby answers, as the server does: the Kinesis
// API is POST / only, so a GET of these can never be an API request.
const (
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathMetrics = "/metrics"
)

// Standby answers on a listener while the store recovers, before a Server
// exists: /healthz is 200, /readyz is 503, and every API request gets 503
// ServiceUnavailable (which AWS SDKs retry) with Connection: close, so the
// client's next attempt opens a connection the real Server will accept.
// Handoff then passes the listener on to Server.Serve without closing it,
// so the port stays bound from start to finish.
type Standby struct {
	inner net.Listener
	conns chan accepted // accepted connections and temporary accept errors, for whichever side consumes them
	errc  chan error    // the accept error that stopped the loop
	fast  *fasthttp.Server
	own   *handoffListener // the standby's view
	wg    sync.WaitGroup   // the standby's Serve
	once  sync.Once
}

// NewStandby starts answering on ln, over TLS when tlsConf is not nil (the
// same configuration the Server will use, so clients of a TLS endpoint get
// a proper 503 during recovery rather than a failed handshake; the standby
// offers only http/1.1). Exactly one of Handoff or Close must follow.
func NewStandby(ln net.Listener, tlsConf *tls.Config) *Standby {
	sb := &Standby{inner: ln, conns: make(chan accepted), errc: make(chan error, 1)}
	go sb.acceptLoop()
	sb.own = sb.view()
	sb.fast = &fasthttp.Server{
		Handler:               standbyHandler,
		Name:                  "shardlog",
		NoDefaultServerHeader: true,
		ReadTimeout:           5 * time.Second,
		IdleTimeout:           time.Second,
		CloseOnShutdown:       true,
	}
	var serveOn net.Listener = sb.own
	if tlsConf != nil {
		conf := tlsConf.Clone()
		conf.NextProtos = []string{"http/1.1"}
		serveOn = tls.NewListener(sb.own, conf)
	}
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		_ = sb.fast.Serve(serveOn)
	}()
	return sb
}

// accepted is one result of the real listener's Accept.
type accepted struct {
	conn net.Conn
	err  error // a temporary error (out of file descriptors, ...)
}

// acceptLoop accepts for the standby and, after Handoff, for the server.
// A temporary error (a connection flood past the open-files limit) is
// handed to the consumer, whose accept loop backs off, logs and counts it
// and accepts again; any other error ends the loop.
func (sb *Standby) acceptLoop() {
	for {
		c, err := sb.inner.Accept()
		if err != nil && !temporaryAcceptError(err) {
			sb.errc <- err
			close(sb.conns)
			return
		}
		sb.conns <- accepted{conn: c, err: err}
	}
}

// view returns a listener that takes connections from the accept loop
// until it is closed; closing it leaves the real listener open.
func (sb *Standby) view() *handoffListener {
	return &handoffListener{sb: sb, done: make(chan struct{})}
}

// Handoff stops the standby answering (its open connections are closed
// once their current request is answered) and returns a listener for
// Server.Serve: the same port, and closing it closes the real listener.
func (sb *Standby) Handoff() net.Listener {
	sb.stop()
	l := sb.view()
	l.closeInner = true
	return l
}

// Close stops the standby and closes the listener (the store could not be
// opened, so nothing will serve).
func (sb *Standby) Close() error {
	sb.stop()
	return sb.inner.Close()
}

func (sb *Standby) stop() {
	sb.once.Do(func() {
		_ = sb.own.Close()
		// Connections the standby holds get their answer and Connection:
		// close; a client that sends nothing is not worth waiting for.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sb.fast.ShutdownWithContext(ctx)
		sb.wg.Wait()
	})
}

// standbyHandler answers requests during recovery.
func standbyHandler(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	if ctx.IsGet() || ctx.IsHead() {
		switch string(ctx.Path()) {
		case PathHealthz:
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("ok\n")
			return
		case PathReadyz, PathMetrics:
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetStatusCode(http.StatusServiceUnavailable)
			ctx.SetBodyString("recovering\n")
			return
		}
	}
	e := &wire.APIError{Type: wire.ServiceUnavailable, Message: "shardlog is recovering its data directory; retry shortly."}
	ctx.Response.Header.Set("Retry-After", "1")
	ctx.SetStatusCode(e.Status())
	c, _ := wire.RequestCodec(wire.B2S(ctx.Request.Header.ContentType()))
	ctx.SetContentType(c.ContentType())
	ctx.SetBody(c.EncodeError(nil, e))
}

// handoffListener is one consumer's view of a Standby's accept loop.
type handoffListener struct {
	sb         *Standby
	done       chan struct{}
	closeOnce  sync.Once
	closeInner bool // Close closes the real listener (the Server's view)
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case <-l.done:
		return nil, net.ErrClosed
	default:
	}
	select {
	case a, ok := <-l.sb.conns:
		if !ok {
			err := <-l.sb.errc
			l.sb.errc <- err
			return nil, err
		}
		return a.conn, a.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		if l.closeInner {
			err = l.sb.inner.Close()
		}
	})
	return err
}

func (l *handoffListener) Addr() net.Addr { return l.sb.inner.Addr() }
