package server

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/valyala/fasthttp"
)

// The admin listener is the operator's surface, apart from the API port:
// ServeAdmin answers /healthz, /readyz, /metrics and the web console, and
// the Kinesis API at POST / without signature or policy checks, because the
// console's page calls the API of the origin it was loaded from and cannot
// sign. Whoever reaches the admin listener is the operator: bind it to
// loopback (cmd's default) or to an interface only operators reach.
//
// On the API port, /healthz and /readyz are always served (they say only
// "ok", "ready" or "recovering"). /metrics names every stream and its
// traffic, and the console reads and writes streams unsigned, so while
// requests must be signed (AuthSigV4) they are refused there with 403
// AccessDeniedException unless Options.ExposeAdminOnAPI is set. A signature
// cannot unlock them (they are not API operations), which is why the answer
// is not MissingAuthenticationTokenException: that would send the operator
// looking for credentials instead of for the admin listener. Under AuthNone
// the API port serves everything, as before the admin listener existed.

// errAdminOnly answers /metrics and /console on the API port under sigv4.
var errAdminOnly = &wire.APIError{
	Type:       wire.AccessDenied,
	Message:    "Operator endpoints (/metrics, /console) are not served on the API port while requests must be signed; use the admin listener.",
	HTTPStatus: http.StatusForbidden,
}

// errAdminForeignHost answers browser requests to the admin listener under
// a host name (see localBrowserRequest).
var errAdminForeignHost = &wire.APIError{
	Type:       wire.AccessDenied,
	Message:    "The admin listener answers browsers only at an IP address or localhost.",
	HTTPStatus: http.StatusForbidden,
}

// ServeAdmin serves the admin listener on ln until Shutdown, which also
// closes ln. It answers over cleartext HTTP/1.1 even when Options.TLS is
// set. After Shutdown it returns nil; otherwise the error that stopped
// accepting.
func (s *Server) ServeAdmin(ln net.Listener) error {
	err := s.adminSrv.Serve(ln)
	if s.closing.Load() || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// adminOnAPI reports whether /metrics and the console are served on the
// API port: always under AuthNone, under AuthSigV4 only when
// Options.ExposeAdminOnAPI says so.
func (s *Server) adminOnAPI() bool { return s.opts.ExposeAdminOnAPI || !s.sigv4On() }

// serveAdmin is the admin listener's handler: the operator endpoints and
// the console, then the API with x.operator set (no signature, no policy).
func (s *Server) serveAdmin(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			s.failFast(ctx, s.svc.ToAPIError("-", s.recovered("-", p)))
		}
	}()
	p := wire.B2S(ctx.Path())
	if p != pathHealthz && p != pathReadyz && p != pathMetrics &&
		!localBrowserRequest(wire.B2S(ctx.Host()), wire.B2S(ctx.Request.Header.Peek("Origin")), len(ctx.Request.Header.Peek("Sec-Fetch-Site")) > 0) {
		s.failFast(ctx, errAdminForeignHost)
		return
	}
	if s.operatorFast(ctx, true) {
		return
	}
	s.serveAPIFast(ctx, true)
}

// localBrowserRequest reports whether a request may use the console and
// the unsigned API of the admin listener. Requests that are not from a
// browser (no Origin, no Sec-Fetch-Site: curl, scrapers, SDKs) may. A
// browser's must name the listener by IP address or as localhost, and an
// Origin must be that same host: a web page cannot then reach the unsigned
// API by pointing its own domain name at the loopback address (DNS
// rebinding), and the browser's same-origin rule keeps other origins out.
func localBrowserRequest(host, origin string, fetchMeta bool) bool {
	if origin == "" && !fetchMeta {
		return true
	}
	if origin != "" {
		_, rest, ok := strings.Cut(origin, "://")
		if !ok || !strings.EqualFold(rest, host) {
			return false
		}
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if net.ParseIP(name) != nil {
		return true
	}
	name = strings.ToLower(name)
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}
