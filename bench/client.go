package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	targetPrefix   = "Kinesis_20131202."
	contentType    = "application/x-amz-json-1.1"
	requestTimeout = 30 * time.Second
)

// APIError is an error answer of the Kinesis API.
type APIError struct {
	Status  int
	Type    string // __type without any namespace prefix
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

// callRetryFor is how long call keeps resending a throttled or 5xx call.
const callRetryFor = 30 * time.Second

// throttled reports whether err asks the client to back off and resend.
func throttled(typ string) bool {
	return typ == "ProvisionedThroughputExceededException" || typ == "LimitExceededException" ||
		typ == "ThrottlingException" || typ == "KMSThrottlingException"
}

// errorType returns the kind of err for the errors-by-type table.
func errorType(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Type
	}
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "network"
}

// checkEndpoint parses endpoint and refuses hosts that are not loopback
// unless allowRemote. It returns the host:port to dial and whether it is TLS.
func checkEndpoint(endpoint string, allowRemote bool) (addr string, tls bool, err error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("bench: endpoint %q: %w", endpoint, err)
	}
	switch u.Scheme {
	case "http":
	case "https":
		tls = true
	default:
		return "", false, fmt.Errorf("bench: endpoint %q: scheme must be http or https", endpoint)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", false, fmt.Errorf("bench: endpoint %q has no host", endpoint)
	}
	if port == "" {
		port = map[bool]string{false: "80", true: "443"}[tls]
	}
	if !allowRemote && !isLoopback(host) {
		return "", false, fmt.Errorf("bench: endpoint %q is not loopback; pass --allow-remote to load a remote server", endpoint)
	}
	return net.JoinHostPort(host, port), tls, nil
}

// isLoopback reports whether host is localhost or a loopback address. It
// does not resolve other names: a name is remote until proven otherwise.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client speaks the Kinesis JSON 1.1 protocol over fasthttp. It is safe for
// concurrent use.
type client struct {
	hc   *fasthttp.HostClient
	host string
	sign *signer
	// h2, when set, carries the requests over HTTP/2 instead of hc: one
	// client (and so one connection) per producer or reader, taken in
	// turn.
	h2     []*http.Client
	h2Next atomic.Uint32
	h2URL  string
}

// newClient returns a client of addr, sending over HTTP/2 when h2; creds
// nil sends unsigned requests with a dummy SigV4 header (sign.go).
func newClient(addr string, tls, h2 bool, conns int, creds *Credentials) *client {
	c := &client{
		host: addr,
		sign: newSigner(creds),
		hc: &fasthttp.HostClient{
			Addr:                          addr,
			IsTLS:                         tls,
			MaxConns:                      conns,
			MaxIdleConnDuration:           time.Minute,
			ReadTimeout:                   requestTimeout,
			WriteTimeout:                  requestTimeout,
			MaxConnWaitTimeout:            requestTimeout,
			NoDefaultUserAgentHeader:      true,
			DisableHeaderNamesNormalizing: true,
			ReadBufferSize:                64 << 10,
			WriteBufferSize:               64 << 10,
			MaxResponseBodySize:           64 << 20,
		},
	}
	if h2 {
		c.h2URL = map[bool]string{false: "http://", true: "https://"}[tls] + addr + "/"
		for range conns {
			c.h2 = append(c.h2, h2Client(tls))
		}
	}
	return c
}

// prepare sets req up for op with body, which it does not copy: body must
// stay unchanged until the request is done.
func (c *client) prepare(req *fasthttp.Request, op string, body []byte) {
	req.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/")
	req.Header.SetHost(c.host)
	req.Header.SetContentType(contentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	c.authenticate(req, op, body)
	req.SetBodyRaw(body)
}

// authenticate adds the authentication headers to req. fasthttp has its
// own request type: the signer signs a net/http copy of the headers req
// sends, and its results are copied back.
func (c *client) authenticate(req *fasthttp.Request, op string, body []byte) {
	r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/"}, Host: c.host, Header: http.Header{
		"Content-Type": {contentType},
		"X-Amz-Target": {targetPrefix + op},
	}}
	if err := c.sign.sign(r, body); err != nil {
		// The v4 signer fails only on a request it cannot read; ours is
		// built above. The server answers the unsigned request.
		return
	}
	for _, name := range []string{"X-Amz-Date", "Authorization", "X-Amz-Security-Token"} {
		if v := r.Header.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
}

// do sends req and returns nil for a 200, an *APIError for an API error
// answer, or the transport error.
func (c *client) do(req *fasthttp.Request, resp *fasthttp.Response) error {
	do := c.hc.Do
	if c.h2 != nil {
		do = c.doH2
	}
	if err := do(req, resp); err != nil {
		return err
	}
	if resp.StatusCode() == fasthttp.StatusOK {
		return nil
	}
	return apiError(resp.StatusCode(), resp.Body())
}

// doH2 sends req over one of the HTTP/2 connections and copies the answer
// into resp.
func (c *client) doH2(req *fasthttp.Request, resp *fasthttp.Response) error {
	hr, err := http.NewRequest(http.MethodPost, c.h2URL, bytes.NewReader(req.Body()))
	if err != nil {
		return err
	}
	for name, value := range req.Header.All() {
		if n := string(name); n != "Host" && n != "Content-Length" {
			hr.Header.Set(n, string(value))
		}
	}
	hc := c.h2[int(c.h2Next.Add(1))%len(c.h2)]
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	hresp, err := hc.Do(hr.WithContext(ctx))
	if err != nil {
		return err
	}
	defer hresp.Body.Close()
	resp.Reset()
	resp.SetStatusCode(hresp.StatusCode)
	_, err = io.Copy(resp.BodyWriter(), hresp.Body)
	return err
}

// apiError builds the error of a non-200 answer.
func apiError(status int, body []byte) *APIError {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Msg2    string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	if e.Type == "" {
		e.Type = fmt.Sprintf("HTTP%d", status)
	}
	if e.Message == "" {
		e.Message = e.Msg2
	}
	return &APIError{Status: status, Type: e.Type, Message: e.Message}
}

// call sends a control-plane request, encoding in and decoding the answer
// into out (when not nil) with encoding/json.
//
// Like the SDKs, it backs off and resends a call answered with a throttling
// error or a 5xx (a shardlog still recovering its data directory answers
// 503), for up to callRetryFor.
func (c *client) call(op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	deadline := time.Now().Add(callRetryFor)
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		c.prepare(req, op, body)
		err = c.do(req, resp)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || !(throttled(ae.Type) || ae.Status >= 500) || time.Now().Add(backoff).After(deadline) {
			break
		}
		time.Sleep(backoff)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return nil
}

// ensureStream creates stream with shards shards unless it exists, waits
// for it to be ACTIVE and returns its open shards' ids and whether this call
// created it.
func (c *client) ensureStream(ctx context.Context, stream string, shards int) (ids []string, created bool, err error) {
	err = c.call("CreateStream", map[string]any{"StreamName": stream, "ShardCount": shards}, nil)
	var ae *APIError
	switch {
	case err == nil:
		created = true
	case errors.As(err, &ae) && ae.Type == "ResourceInUseException":
	default:
		return nil, false, err
	}
	for {
		var out struct {
			StreamDescription struct {
				StreamStatus  string
				HasMoreShards bool
				Shards        []struct {
					ShardId             string
					SequenceNumberRange struct{ EndingSequenceNumber *string }
				}
			}
		}
		in := map[string]any{"StreamName": stream}
		if len(ids) > 0 {
			in["ExclusiveStartShardId"] = ids[len(ids)-1]
		}
		if err := c.call("DescribeStream", in, &out); err != nil {
			return nil, created, err
		}
		d := out.StreamDescription
		if d.StreamStatus != "ACTIVE" {
			ids = nil
			select {
			case <-ctx.Done():
				return nil, created, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		for _, s := range d.Shards {
			if s.SequenceNumberRange.EndingSequenceNumber == nil {
				ids = append(ids, s.ShardId)
			}
		}
		if !d.HasMoreShards || len(d.Shards) == 0 {
			return ids, created, nil
		}
	}
}

// deleteStream deletes stream without waiting.
func (c *client) deleteStream(stream string) error {
	return c.call("DeleteStream", map[string]any{"StreamName": stream, "EnforceConsumerDeletion": true}, nil)
}

// jsonField returns the raw value text of the first "key": in body: for a
// string, its contents without quotes; nil when absent or null.
func jsonField(body []byte, key string) []byte {
	k := make([]byte, 0, len(key)+2)
	k = append(append(append(k, '"'), key...), '"')
	i := bytes.Index(body, k)
	if i < 0 {
		return nil
	}
	rest := skipColon(body[i+len(k):])
	if len(rest) == 0 {
		return nil
	}
	if rest[0] == '"' {
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil
		}
		return rest[1 : 1+end]
	}
	end := bytes.IndexAny(rest, ",}] \t\r\n")
	if end < 0 {
		end = len(rest)
	}
	if v := rest[:end]; string(v) != "null" {
		return v
	}
	return nil
}

// skipColon skips whitespace, one colon and whitespace.
func skipColon(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' || b[0] == ':') {
		b = b[1:]
	}
	return b
}

// eachData calls fn with the text of every "Data" string in a GetRecords
// answer, in order. Data is base64, so it holds no escapes, and no other
// member of the answer is named Data.
func eachData(body []byte, fn func(text []byte)) {
	const key = `"Data"`
	for {
		i := bytes.Index(body, []byte(key))
		if i < 0 {
			return
		}
		body = skipColon(body[i+len(key):])
		if len(body) == 0 || body[0] != '"' {
			continue
		}
		end := bytes.IndexByte(body[1:], '"')
		if end < 0 {
			return
		}
		fn(body[1 : 1+end])
		body = body[2+end:]
	}
}
