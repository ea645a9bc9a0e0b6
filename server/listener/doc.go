// Package listener accepts the server's connections and hands each to the
// transport that speaks its protocol, without knowing any request.
//
// Split divides one net.Listener in two: cleartext connections opening
// with the HTTP/2 client preface (h2c with prior knowledge) go to
// the HTTP/2 server, the rest to fasthttp as HTTP/1.1; with TLS it terminates TLS
// on accept and lets ALPN decide instead (tls.go). Connections count
// against the server's connection and HTTP/2 slots from accept to close,
// and accept loops back off on temporary errors (accept.go). Standby
// answers on the listener while the store recovers and hands it over to
// the server without closing it (standby.go); Certificate is a TLS
// certificate replaced live.
//
// It imports server/wire (the standby answers API requests with a wire
// error) and no other shardlog package.
package listener
