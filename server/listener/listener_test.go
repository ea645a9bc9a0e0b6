package listener

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestSplitRoutesByPreface dials the same listener twice: a connection
// opening with the HTTP/2 client preface comes out of H2, one opening with
// an HTTP/1.1 request out of Accept, each with the bytes the sniffing read
// replayed, and each holding a connection slot (and the HTTP/2 one an
// HTTP/2 slot) until it is closed.
func TestSplitRoutesByPreface(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns, h2Slots := make(chan struct{}, 4), make(chan struct{}, 4)
	sp := NewSplit(ln, nil, conns, h2Slots, time.Second, nil, func() { t.Error("no HTTP/2 slot free") })
	defer sp.Close()

	dial := func(first string) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write([]byte(first)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	accepted := func(l net.Listener, want string) net.Conn {
		t.Helper()
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
		return c
	}

	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	const request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	dial(preface)
	h2 := accepted(sp.H2(), preface)
	dial(request)
	h1 := accepted(sp, request)
	// The accept loop takes a slot before it accepts: one more than the
	// open connections is taken while it waits.
	if len(conns) != 3 || len(h2Slots) != 1 {
		t.Fatalf("%d connection slots and %d HTTP/2 slots taken, want 3 and 1", len(conns), len(h2Slots))
	}
	h2.Close()
	h1.Close()
	if len(conns) != 1 || len(h2Slots) != 0 {
		t.Fatalf("%d connection slots and %d HTTP/2 slots still taken after Close", len(conns), len(h2Slots))
	}
}
