// Package h2 serves HTTP/2 connections (RFC 9113) to a net/http Handler:
// cleartext with prior knowledge (h2c) and TLS connections that negotiated
// h2, both handed over already accepted by package listener.
//
// It exists for speed. net/http's HTTP/2 server runs a serve loop per
// connection that every frame and every response passes through on
// channels, writes response headers on a goroutine of their own and
// flushes the socket after each frame, and reads each frame with two
// unbuffered reads: on this project's workloads it cost four times the
// CPU of an HTTP/1.1 request. Here one goroutine per connection reads
// frames through a buffer, each request runs its handler on a goroutine
// of its own, and handlers write their frames themselves under the
// connection's write lock; the last writer to leave flushes, so answers
// to concurrent streams share a write. Framing and HPACK are
// golang.org/x/net/http2's Framer and hpack; what is written here is the
// connection's state: streams, flow control, settings and shutdown.
//
// What it leaves out: server push, stream priorities (they are parsed and
// ignored, as RFC 9113 allows), the extended CONNECT protocol, and 1xx
// responses. Request trailers are read and dropped.
//
// Limits: a connection runs at most MaxConcurrentStreams handlers at once
// (streams reset by the client count until their handler returns, so
// rapid resets cannot pile up work) and refuses more streams with
// REFUSED_STREAM; a client that keeps opening streams past the limit is
// sent GOAWAY ENHANCE_YOUR_CALM. A peer can make a connection buffer at
// most Window bytes of request bodies no handler has read. ReadTimeout
// bounds receiving a request's body, WriteTimeout each socket write and
// each wait for flow-control credit, IdleTimeout a connection without
// streams.
package h2
