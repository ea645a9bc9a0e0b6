package listener

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"
)

// ALPN protocol IDs (RFC 7301) the server offers when TLS is on: HTTP/2
// first, as AWS's endpoints do, so clients that speak both pick it.
const (
	alpnH2    = "h2"
	alpnHTTP1 = "http/1.1"
)

// TLSConfig returns a copy of c ready for Serve: ALPN offers h2 and
// http/1.1 unless c names its own protocols, and TLS 1.2 is the floor. It
// returns nil for a nil c (TLS off).
func TLSConfig(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	if len(c.NextProtos) == 0 {
		c.NextProtos = []string{alpnH2, alpnHTTP1}
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// handshake terminates TLS on c and routes the connection by the protocol
// ALPN settled on: "h2" goes to the HTTP/2 server, which takes the
// *tls.Conn as it takes one from tls.Listen; anything else (http/1.1, or a
// client that offered no ALPN) goes to fasthttp. The handshake must finish
// within the sniffing deadline. Closing the returned *tls.Conn closes c and
// frees its connection slot.
func (l *Split) handshake(c *countedConn) {
	tc := tls.Server(c, l.tls)
	_ = c.SetDeadline(time.Now().Add(l.deadline))
	if err := tc.Handshake(); err != nil {
		tc.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == alpnH2 {
		l.toH2(tc, c)
		return
	}
	l.handoff(l.http1, tc)
}

// handoff passes c to the half that serves it, or closes c if the listener
// closes first.
func (l *Split) handoff(dst chan net.Conn, c net.Conn) {
	select {
	case dst <- c:
	case <-l.done:
		c.Close()
	}
}

// Certificate is the certificate and key a TLS listener presents, replaced
// whole by Set while connections are served: handshakes after Set present
// the new pair, and connections already established keep the one they
// negotiated (nothing is dropped). It is safe for concurrent use.
type Certificate struct {
	cur atomic.Pointer[tls.Certificate]
}

// NewCertificate returns a Certificate presenting pair.
func NewCertificate(pair tls.Certificate) *Certificate {
	c := new(Certificate)
	c.Set(pair)
	return c
}

// Set makes every later handshake present pair.
func (c *Certificate) Set(pair tls.Certificate) { c.cur.Store(&pair) }

// Current returns the pair handshakes present now; it must not be modified.
func (c *Certificate) Current() *tls.Certificate { return c.cur.Load() }

// TLSConfig returns a configuration that presents the current pair at each
// handshake, for Options.TLS and NewStandby (which clone it and keep that
// behaviour).
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return c.cur.Load(), nil
	}}
}
