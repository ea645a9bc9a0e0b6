package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"
)

// TestBodyBudget: while one request holds the whole in-flight body budget
// (its body still arriving), another waits for its share and is answered
// ServiceUnavailable, which SDKs retry; once the first is done the budget
// is whole again.
func TestBodyBudget(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes, o.MaxInflightBodyBytes = 1<<20, 1<<20 })
	e.createStream("s", 1)
	c := e.clients[0]
	rt := c.http.Transport.(*protoCheck).rt
	hold := &slowBody{left: 1 << 20, done: make(chan struct{})}
	held := make(chan error, 1)
	go func() {
		r, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", hold)
		r.ContentLength = 1 << 20
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", targetPrefix+"PutRecords")
		shapeAuth(r)
		resp, err := rt.RoundTrip(r)
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	time.Sleep(200 * time.Millisecond) // the first request has taken the budget
	began := time.Now()
	r := c.call(t, e.addr, "ListStreams", `{}`)
	if r.status != http.StatusServiceUnavailable || r.body["__type"] != wire.ServiceUnavailable {
		t.Fatalf("with the budget taken: %d %v, want 503 %s", r.status, r.body, wire.ServiceUnavailable)
	}
	if took := time.Since(began); took < bodyBudgetWait {
		t.Fatalf("refused after %v, before waiting %v for the budget", took, bodyBudgetWait)
	}
	if got := e.srv.metrics.BodyBudgetRefusals.Get(); got != 1 {
		t.Fatalf("shardlog_body_budget_refusals_total = %d, want 1", got)
	}
	close(hold.done) // the first client gives up; its share comes back
	<-held
	if r := c.call(t, e.addr, "ListStreams", `{}`); r.status != http.StatusOK {
		t.Fatalf("after the budget came back: %d %v", r.status, r.body)
	}
}

// TestH2ConnectionSlots: HTTP/2 connections beyond MaxInflightBodyBytes
// over h2WindowBytes are closed at once (each could hold a window of unread
// request data), counted, and accepted again once one closes.
func TestH2ConnectionSlots(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes, o.MaxInflightBodyBytes = 1<<20, 1<<20 })
	slots := (1 << 20) / h2WindowBytes
	open := func() net.Conn {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		// The HTTP/2 client connection preface.
		if _, err := conn.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	// closedByServer reports whether the server closes conn within a
	// second (an open HTTP/2 connection sends its SETTINGS and waits).
	closedByServer := func(conn net.Conn) bool {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err := io.Copy(io.Discard, conn)
		return err == nil
	}
	var conns []net.Conn
	for range slots {
		conns = append(conns, open())
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond) // all sniffed and handed over
	extra := open()
	defer extra.Close()
	if !closedByServer(extra) {
		t.Fatalf("connection %d of %d HTTP/2 slots was kept open", slots+1, slots)
	}
	if got := e.srv.metrics.H2ConnsRefused.Get(); got != 1 {
		t.Fatalf("shardlog_h2_conns_refused_total = %d, want 1", got)
	}
	conns[0].Close()
	conns = conns[1:]
	time.Sleep(100 * time.Millisecond)
	// A real HTTP/2 client is served again.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.clients[1].sdk.ListStreams(ctx, nil); err != nil {
		t.Fatalf("h2c after a slot came free: %v", err)
	}
}
