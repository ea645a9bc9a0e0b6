package server

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// toleratedHost is the fasthttp HeaderReceived hook of the API listener
// (not the admin listener, whose browser guard reads the Host as sent).
// Some clients put the endpoint URL in the Host header ("Host:
// http://localhost:4567/"); AWS's front end answers them as usual, while
// fasthttp would refuse the request as unparsable HTTP before the handler
// sees it, and in JSON whatever the request's content type. A Host holding
// "scheme://" is cut to its authority (between "://" and the next '/'), so
// the request is routed and answered in its own codec. A request signed
// over such a Host then fails its signature check (InvalidSignature), as
// the host verified differs from the one signed.
func toleratedHost(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	host := h.Host()
	if i := bytes.Index(host, []byte("://")); i >= 0 {
		authority := host[i+3:]
		if j := bytes.IndexByte(authority, '/'); j >= 0 {
			authority = authority[:j]
		}
		h.SetHostBytes(bytes.Clone(authority))
	}
	return fasthttp.RequestConfig{}
}
