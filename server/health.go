package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"

	"github.com/shardlog/shardlog/server/console"
	"github.com/shardlog/shardlog/server/listener"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/valyala/fasthttp"
)

// Operator endpoints. The Kinesis API is POST / only, so a GET (or HEAD)
// of these paths can never be an API request:
//
//	GET /healthz  200 "ok" while the process serves at all (also during recovery)
//	GET /readyz   200 "ready" once SetReady(true), 503 "recovering" before
//	GET /metrics  Prometheus text format (see package metrics)
//
// The admin listener (admin.go) serves them all; the API port serves the
// health endpoints always and /metrics as adminOnAPI says.
const (
	pathHealthz = listener.PathHealthz
	pathReadyz  = listener.PathReadyz
	pathMetrics = listener.PathMetrics
)

// SetReady marks the server ready (or not) for /readyz. The caller sets it
// once the store has recovered and Serve runs; New leaves it false. Safe
// for concurrent use.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Ready reports what /readyz answers. Safe for concurrent use.
func (s *Server) Ready() bool { return s.ready.Load() }

// serveOperatorFast answers the operator endpoints and the console on the
// API port over fasthttp; it reports false for anything else, which then
// goes to the API.
func (s *Server) serveOperatorFast(ctx *fasthttp.RequestCtx) bool {
	return s.operatorFast(ctx, s.adminOnAPI())
}

// operatorFast answers the health endpoints, and /metrics and the console
// if admin is true; with admin false those two are refused (errAdminOnly).
func (s *Server) operatorFast(ctx *fasthttp.RequestCtx, admin bool) bool {
	p := wire.B2S(ctx.Path())
	if s.console != nil && (p == console.Prefix || strings.HasPrefix(p, console.Prefix+"/")) {
		if !admin {
			s.writeFast(ctx, errAdminOnly.Status(), wire.JSON{}.ContentType(), wire.JSON{}.EncodeError(nil, errAdminOnly))
			return true
		}
		return s.console.Serve(ctx)
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		return false
	}
	switch p {
	case pathHealthz:
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
	case pathReadyz:
		ctx.SetContentType("text/plain; charset=utf-8")
		if s.ready.Load() {
			ctx.SetBodyString("ready\n")
		} else {
			ctx.SetStatusCode(http.StatusServiceUnavailable)
			ctx.SetBodyString("recovering\n")
		}
	case pathMetrics:
		if !admin {
			s.writeFast(ctx, errAdminOnly.Status(), wire.JSON{}.ContentType(), wire.JSON{}.EncodeError(nil, errAdminOnly))
			return true
		}
		ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		s.metrics.Write(ctx, s.store)
	default:
		return false
	}
	return true
}

// serveOperatorHTTP is serveOperatorFast for the net/http adapter (HTTP/2),
// which serves no console (browsers do not speak cleartext HTTP/2).
func (s *Server) serveOperatorHTTP(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case pathHealthz:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case pathReadyz:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.ready.Load() {
			_, _ = w.Write([]byte("ready\n"))
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("recovering\n"))
		}
	case pathMetrics:
		if !s.adminOnAPI() {
			var id [40]byte
			w.Header().Set("X-Amzn-Requestid", string(s.requestID(id[:0])))
			w.Header().Set("Content-Type", wire.JSON{}.ContentType())
			w.WriteHeader(errAdminOnly.Status())
			_, _ = w.Write(wire.JSON{}.EncodeError(nil, errAdminOnly))
			return true
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.metrics.Write(w, s.store)
	default:
		return false
	}
	return true
}

// Standby answers on a listener while the store recovers (package
// listener).
type Standby = listener.Standby

// NewStandby starts answering on ln while the store recovers
// (listener.NewStandby).
func NewStandby(ln net.Listener, tlsConf *tls.Config) *Standby {
	return listener.NewStandby(ln, tlsConf)
}

// Certificate is the certificate and key a TLS listener presents, replaced
// live on reload (listener.Certificate).
type Certificate = listener.Certificate

// NewCertificate returns a Certificate holding pair
// (listener.NewCertificate).
func NewCertificate(pair tls.Certificate) *Certificate { return listener.NewCertificate(pair) }
