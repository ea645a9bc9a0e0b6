package server

import (
	"net/http"

	"github.com/valyala/fasthttp"
)

// CORS on the API port, as AWS's Kinesis front end answers browsers (the
// JavaScript SDK in a web page), after kinesalite's index.js and
// test/connection.js, which record AWS's answers:
//
//   - A request carrying Origin gets Access-Control-Allow-Origin: *,
//     whatever its method, path or outcome.
//   - OPTIONS with Origin is a preflight: 200, an empty body, no
//     Content-Type, Access-Control-Allow-Headers echoing
//     Access-Control-Request-Headers and Access-Control-Allow-Methods
//     echoing Access-Control-Request-Method (each only when asked),
//     Access-Control-Max-Age: 172800 (two days). It is answered before any
//     other check: browsers never sign a preflight, so under auth mode
//     sigv4 it is served unauthenticated; the request that follows it is
//     signed and checked as any other.
//   - Any other request with Origin also gets Access-Control-Expose-Headers
//     naming the response headers a page may read (corsExposeHeaders).
//
// OPTIONS without Origin is no preflight: it gets the answer to any
// method but POST (AccessDeniedException). The admin listener serves no
// CORS: its unsigned API is for pages of its own origin (admin.go).
const (
	corsMaxAge        = "172800"
	corsExposeHeaders = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
)

// corsFast adds the CORS headers to the response of an API request over
// HTTP/1.1 and answers a preflight; it reports whether it did (the request
// is then done).
func (s *Server) corsFast(ctx *fasthttp.RequestCtx) bool {
	req, resp := &ctx.Request.Header, &ctx.Response.Header
	if len(req.Peek("Origin")) == 0 {
		return false
	}
	resp.Set("Access-Control-Allow-Origin", "*")
	if !ctx.IsOptions() {
		resp.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false
	}
	if v := req.Peek("Access-Control-Request-Headers"); len(v) > 0 {
		resp.SetBytesV("Access-Control-Allow-Headers", v)
	}
	if v := req.Peek("Access-Control-Request-Method"); len(v) > 0 {
		resp.SetBytesV("Access-Control-Allow-Methods", v)
	}
	resp.Set("Access-Control-Max-Age", corsMaxAge)
	var id [40]byte
	resp.SetBytesV("X-Amzn-Requestid", s.requestID(id[:0]))
	ctx.SetStatusCode(http.StatusOK)
	ctx.Response.ResetBody()
	return true
}

// corsHTTP is corsFast for HTTP/2.
func (s *Server) corsHTTP(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Origin") == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodOptions {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false
	}
	if v := r.Header.Get("Access-Control-Request-Headers"); v != "" {
		h.Set("Access-Control-Allow-Headers", v)
	}
	if v := r.Header.Get("Access-Control-Request-Method"); v != "" {
		h.Set("Access-Control-Allow-Methods", v)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	var id [40]byte
	h["X-Amzn-Requestid"] = []string{string(s.requestID(id[:0]))}
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusOK)
	return true
}
