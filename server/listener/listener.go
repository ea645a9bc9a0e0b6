package listener

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// h2Preface is the HTTP/2 client connection preface (RFC 9113 §3.4). A
// client speaking HTTP/2 without TLS "with prior knowledge" (h2c) sends it
// first; no HTTP/1.x request starts with it ("PRI" is not a method AWS
// clients use).
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// Split splits one listener in two by protocol: connections that open
// with the HTTP/2 preface go to H2 (served by package server/h2), all others are
// returned by Accept (served by fasthttp). Accepting and sniffing run in
// their own goroutines, so a client that connects and sends nothing holds
// only its own goroutine, and only until the read deadline.
//
// With a TLS config, it terminates TLS instead of sniffing and splits by the
// protocol ALPN negotiated (tls.go).
//
// Connections are counted against the server's connection limit from
// accept to Close; the accept loop waits while the limit is reached.
type Split struct {
	inner    net.Listener
	tls      *tls.Config // nil: cleartext, sniff for the h2c preface
	h2       *chanListener
	http1    chan net.Conn
	conns    chan struct{} // semaphore: one token per open connection, shared by the server
	deadline time.Duration // for reading the first bytes

	done      chan struct{}
	closeOnce sync.Once
	errMu     sync.Mutex
	err       error // the accept error that stopped the loop, if any

	// onAcceptError is told of each temporary accept error, and whether
	// it is time to log one (at most one a second); nil: ignore them.
	onAcceptError func(err error, warn bool)
	// h2Slots bounds the HTTP/2 connections open at once (a semaphore
	// shared by the server); onH2Full is told of each one closed because
	// none was free.
	h2Slots  chan struct{}
	onH2Full func()
}

// NewSplit starts accepting on inner. conns is the server's connection
// semaphore, h2Slots its HTTP/2 one; deadline bounds reading a
// connection's first bytes (or its TLS handshake, with tlsConfig).
// onAcceptError may be nil; onH2Full may not. Close closes inner.
func NewSplit(inner net.Listener, tlsConfig *tls.Config, conns, h2Slots chan struct{}, deadline time.Duration,
	onAcceptError func(err error, warn bool), onH2Full func()) *Split {
	l := &Split{
		inner:         inner,
		tls:           tlsConfig,
		http1:         make(chan net.Conn),
		conns:         conns,
		deadline:      deadline,
		done:          make(chan struct{}),
		onAcceptError: onAcceptError,
		h2Slots:       h2Slots,
		onH2Full:      onH2Full,
	}
	l.h2 = &chanListener{addr: inner.Addr(), conns: make(chan net.Conn), done: l.done, close: l.Close}
	go l.acceptLoop()
	return l
}

// H2 returns the listener of the HTTP/2 connections.
func (l *Split) H2() net.Listener { return l.h2 }

// acceptLoop accepts connections, waiting for a free slot first, and hands
// each one to a sniffing goroutine.
func (l *Split) acceptLoop() {
	var backoff acceptBackoff
	for {
		select {
		case l.conns <- struct{}{}:
		case <-l.done:
			return
		}
		c, err := l.inner.Accept()
		if err != nil {
			<-l.conns
			if temporaryAcceptError(err) {
				// Out of file descriptors (a connection flood past the
				// limit) and the like: keep serving open connections and
				// accept again once some are closed.
				if l.onAcceptError != nil {
					l.onAcceptError(err, backoff.warn(time.Now()))
				}
				if backoff.wait(l.done) {
					continue
				}
				return
			}
			l.errMu.Lock()
			l.err = err
			l.errMu.Unlock()
			l.Close()
			return
		}
		backoff.reset()
		go l.sniff(&countedConn{Conn: c, release: func() { <-l.conns }})
	}
}

// sniff reads just enough of c to tell HTTP/2 from HTTP/1.x and passes it
// on with the bytes read replayed.
func (l *Split) sniff(c *countedConn) {
	if l.tls != nil {
		l.handshake(c)
		return
	}
	var buf [24]byte
	n := 0
	_ = c.SetReadDeadline(time.Now().Add(l.deadline))
	for n < len(h2Preface) && bytes.Equal(buf[:n], h2Preface[:n]) {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil {
			if n == 0 || bytes.Equal(buf[:n], h2Preface[:n]) {
				c.Close()
				return
			}
			break // not HTTP/2; let fasthttp see the bytes and the error
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	c.replay = append([]byte(nil), buf[:n]...)
	if n == len(h2Preface) && bytes.Equal(buf[:n], h2Preface) {
		l.toH2(c, c)
		return
	}
	l.handoff(l.http1, c)
}

// toH2 hands the HTTP/2 connection c (counted as cc) to the HTTP/2 server when an
// HTTP/2 slot is free, and closes it otherwise. Each connection may hold
// up to h2WindowBytes of request data no handler has read yet (its
// flow-control window), so the slots bound the sum of those by the body
// budget.
func (l *Split) toH2(c net.Conn, cc *countedConn) {
	select {
	case l.h2Slots <- struct{}{}:
	default:
		l.onH2Full()
		c.Close()
		return
	}
	release := cc.release
	cc.release = func() { <-l.h2Slots; release() }
	l.handoff(l.h2.conns, c)
}

// Accept returns the next HTTP/1.x connection.
func (l *Split) Accept() (net.Conn, error) {
	select {
	case c := <-l.http1:
		return c, nil
	case <-l.done:
		l.errMu.Lock()
		defer l.errMu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting on both halves and closes the inner listener.
// Connections already accepted stay open.
func (l *Split) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Addr returns the inner listener's address.
func (l *Split) Addr() net.Addr { return l.inner.Addr() }

// chanListener is the HTTP/2 half of a Split.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	close func() error
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { return l.close() }
func (l *chanListener) Addr() net.Addr { return l.addr }

// countedConn replays the sniffed bytes before reading on, and frees its
// connection slot once on Close.
type countedConn struct {
	net.Conn
	replay    []byte
	release   func()
	closeOnce sync.Once
	linger    atomic.Bool // see LingerOnClose
}

func (c *countedConn) Read(p []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *countedConn) Close() error {
	if c.linger.CompareAndSwap(true, false) {
		if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
			go c.drain()
			return nil
		}
	}
	err := c.Conn.Close()
	c.closeOnce.Do(c.release)
	return err
}

// Lingering bounds: how long, and how many bytes, a connection closed by
// LingerOnClose discards before it closes for good.
const (
	lingerFor   = 2 * time.Second
	lingerBytes = 4 << 20
)

// LingerOnClose makes the next Close of c, a connection from a Split's
// Accept (or TLS over one), close gracefully: it sends the end of the
// stream after what was written, then reads and discards what the client
// still sends, until the client closes, lingerFor passes or lingerBytes
// arrive, and only then closes the socket and frees the slot. A server
// that answers a request without reading its body needs it: closing a
// socket with unread input makes the kernel reset the connection, and a
// client still sending its body may then lose the answer before reading
// it. It does nothing to other connections.
func LingerOnClose(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*countedConn); ok {
		cc.linger.Store(true)
	}
}

// drain is the rest of a lingering Close, once the write side is shut.
func (c *countedConn) drain() {
	_ = c.Conn.SetReadDeadline(time.Now().Add(lingerFor))
	_, _ = io.CopyN(io.Discard, c.Conn, lingerBytes)
	_ = c.Conn.Close()
	c.closeOnce.Do(c.release)
}
