package listener

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// TestLingerOnCloseDeliversTheAnswer plays a server that answers a request
// without reading its body and closes: the client has sent more than the
// server read. Without lingering, closing a socket with unread input
// resets the connection: the client's next read or write fails, and a
// client still writing its body (Go's transport) may report that instead
// of the answer. With it, the client reads the whole answer and then the
// end of the stream.
func TestLingerOnCloseDeliversTheAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns, h2Slots := make(chan struct{}, 4), make(chan struct{}, 4)
	sp := NewSplit(ln, nil, conns, h2Slots, time.Second, nil, func() {})
	defer sp.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A request whose body the server will not read, partly sent.
	head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
	if _, err := c.Write(append([]byte(head), bytes.Repeat([]byte{'x'}, 256<<10)...)); err != nil {
		t.Fatal(err)
	}
	s, err := sp.Accept()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the body arrive unread
	answer := bytes.Repeat([]byte("refused "), 1000)
	if _, err := s.Write(answer); err != nil {
		t.Fatal(err)
	}
	LingerOnClose(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, answer) {
		t.Fatalf("read %d bytes of the %d-byte answer, then %v; want all of it and EOF", len(got), len(answer), err)
	}
	// The slot is held while the connection lingers, and freed once the
	// client closes too.
	c.Close()
	deadline := time.Now().Add(lingerFor / 2)
	for len(conns) > 1 { // the accept loop holds one while it waits
		if time.Now().After(deadline) {
			t.Fatalf("%d connection slots still taken after the client closed", len(conns))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLingerOnCloseSeesThroughTLS: the HTTP/1.1 server holds a *tls.Conn
// over the Split's connection on a TLS listener; marking it marks the
// connection beneath, whose Close does the lingering.
func TestLingerOnCloseSeesThroughTLS(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	cc := &countedConn{Conn: a, release: func() {}}
	LingerOnClose(tls.Server(cc, &tls.Config{}))
	if !cc.linger.Load() {
		t.Fatal("LingerOnClose on a *tls.Conn did not mark the connection beneath it")
	}
	// net.Pipe has no CloseWrite: Close falls back to closing at once.
	if err := cc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after Close: %v, want EOF", err)
	}
}
