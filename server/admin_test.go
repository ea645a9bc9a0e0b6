package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// startAdmin serves e's admin listener on a free loopback port and returns
// its host:port; the env's Shutdown closes it.
func startAdmin(t *testing.T, e *testEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeAdmin(ln) }()
	t.Cleanup(func() {
		e.stop() // runs before the env's own cleanup, which then does nothing
		if err := <-done; err != nil {
			t.Errorf("ServeAdmin: %v", err)
		}
	})
	return ln.Addr().String()
}

// adminReq is one request of the admin surface tests.
type adminReq struct {
	name        string
	method      string
	path        string
	target      string            // X-Amz-Target; POST bodies are "{}"
	header      map[string]string // extra headers
	host        string            // Host header, default the address
	wantStatus  int
	wantType    string // __type of a JSON error body, "" for none
	wantContent string // substring of the body
}

func (r adminReq) do(t *testing.T, c *http.Client, addr string) {
	t.Helper()
	var body io.Reader
	if r.method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(r.method, "http://"+addr+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.target != "" {
		req.Header.Set("X-Amz-Target", targetPrefix+r.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != r.wantStatus {
		t.Fatalf("%s: status %d, want %d: %.200s", r.name, resp.StatusCode, r.wantStatus, got)
	}
	if r.wantType != "" {
		var e struct {
			Type string `json:"__type"`
		}
		if err := json.Unmarshal(got, &e); err != nil || e.Type != r.wantType {
			t.Fatalf("%s: body %.200s, want __type %s", r.name, got, r.wantType)
		}
	}
	if !strings.Contains(string(got), r.wantContent) {
		t.Fatalf("%s: body %.200s lacks %q", r.name, got, r.wantContent)
	}
}

// TestAdminSurfaceUnderSigV4: under sigv4 the API port keeps the health
// endpoints and refuses /metrics and the console with 403, over HTTP/1.1
// and h2c alike; the admin listener serves all of them and the console's
// unsigned API calls, except to a browser that names it by a host name.
func TestAdminSurfaceUnderSigV4(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Console = true
		o.Auth = Auth{Mode: AuthSigV4, Keys: []AuthKey{{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Policy: mustPolicy(t, adminPolicy)}}}
	})
	e.srv.SetReady(true)
	admin := startAdmin(t, e)
	for _, c := range e.clients {
		for _, r := range []adminReq{
			{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantContent: "ok"},
			{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, wantContent: "ready"},
			{name: "metrics", method: "GET", path: "/metrics", wantStatus: 403, wantType: wire.AccessDenied, wantContent: "admin listener"},
			{name: "unsigned API", method: "POST", path: "/", target: "ListStreams", wantStatus: 400, wantType: wire.MissingToken},
		} {
			r.name = c.name + " API port " + r.name
			r.do(t, c.http, e.addr)
		}
	}
	h1 := e.clients[0].http
	for _, r := range []adminReq{
		{name: "console", method: "GET", path: "/console", wantStatus: 403, wantType: wire.AccessDenied},
		{name: "console stats", method: "GET", path: "/console/api/stats", wantStatus: 403, wantType: wire.AccessDenied},
		{name: "console asset", method: "GET", path: "/console/app.js", wantStatus: 403, wantType: wire.AccessDenied},
	} {
		r.name = "API port " + r.name
		r.do(t, h1, e.addr)
	}
	_, port, _ := net.SplitHostPort(admin)
	for _, r := range []adminReq{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantContent: "ok"},
		{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, wantContent: "ready"},
		{name: "metrics", method: "GET", path: "/metrics", wantStatus: 200, wantContent: "shardlog_accept_errors_total"},
		{name: "console", method: "GET", path: "/console", wantStatus: 200, wantContent: `<script src="/console/app.js"`},
		{name: "unsigned CreateStream", method: "POST", path: "/", target: "CreateStream", wantStatus: 400, wantType: wire.Validation},
		{name: "unsigned ListStreams", method: "POST", path: "/", target: "ListStreams", wantStatus: 200, wantContent: "StreamNames"},
		{name: "the page's own fetch", method: "POST", path: "/", target: "ListStreams",
			header: map[string]string{"Origin": "http://" + admin, "Sec-Fetch-Site": "same-origin"}, wantStatus: 200},
		{name: "the page at localhost", method: "POST", path: "/", target: "ListStreams", host: "localhost:" + port,
			header: map[string]string{"Origin": "http://localhost:" + port}, wantStatus: 200},
		{name: "rebound host name", method: "POST", path: "/", target: "ListStreams", host: "evil.example:" + port,
			header: map[string]string{"Origin": "http://evil.example:" + port}, wantStatus: 403, wantType: wire.AccessDenied},
		{name: "foreign origin", method: "POST", path: "/", target: "ListStreams",
			header: map[string]string{"Origin": "http://evil.example"}, wantStatus: 403, wantType: wire.AccessDenied},
		{name: "browser console by host name", method: "GET", path: "/console", host: "evil.example:" + port,
			header: map[string]string{"Sec-Fetch-Site": "none"}, wantStatus: 403, wantType: wire.AccessDenied},
		{name: "scraper by host name", method: "GET", path: "/metrics", host: "metrics.internal:" + port, wantStatus: 200},
	} {
		r.name = "admin " + r.name
		r.do(t, h1, admin)
	}
	// A stream created through the admin listener is the API's stream.
	req, _ := http.NewRequest(http.MethodPost, "http://"+admin+"/", strings.NewReader(`{"StreamName":"via-admin","ShardCount":1}`))
	req.Header.Set("X-Amz-Target", targetPrefix+"CreateStream")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := h1.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unsigned CreateStream on the admin listener: %d", resp.StatusCode)
	}
	if _, err := e.clients[0].sdk.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("via-admin")}); err != nil {
		t.Fatalf("signed DescribeStreamSummary of the admin's stream: %v", err)
	}
}

// TestAdminSurfaceOnAPIPort: which of /metrics and the console the API port
// serves, by auth mode and ExposeAdminOnAPI.
func TestAdminSurfaceOnAPIPort(t *testing.T) {
	sigv4 := Auth{Mode: AuthSigV4, Keys: []AuthKey{{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Policy: mustPolicy(t, adminPolicy)}}}
	for _, tc := range []struct {
		name   string
		auth   Auth
		expose bool
		want   int
	}{
		{"none", Auth{}, false, 200},
		{"none, exposed", Auth{}, true, 200},
		{"sigv4", sigv4, false, 403},
		{"sigv4, exposed", sigv4, true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Console, o.Auth, o.ExposeAdminOnAPI = true, tc.auth, tc.expose })
			for _, p := range []string{"/metrics", "/console", "/console/api/segments?stream=nope"} {
				want := tc.want
				if p == "/console/api/segments?stream=nope" && want == 200 {
					want = 404 // served: the stream is missing
				}
				adminReq{name: p, method: "GET", path: p, wantStatus: want}.do(t, e.clients[0].http, e.addr)
			}
			// SetAuth turns the refusal on and off live.
			e.srv.SetAuth(Auth{})
			adminReq{name: "/metrics in mode none", method: "GET", path: "/metrics", wantStatus: 200}.do(t, e.clients[1].http, e.addr)
		})
	}
}

// TestLocalBrowserRequest: the admin listener's rule for browser requests.
func TestLocalBrowserRequest(t *testing.T) {
	f := func(host, origin string, fetchMeta, want bool) {
		t.Helper()
		if got := localBrowserRequest(host, origin, fetchMeta); got != want {
			t.Fatalf("localBrowserRequest(%q, %q, %v) = %v, want %v", host, origin, fetchMeta, got, want)
		}
	}
	f("anything:1", "", false, true) // not a browser
	f("127.0.0.1:4568", "http://127.0.0.1:4568", true, true)
	f("[::1]:4568", "http://[::1]:4568", true, true)
	f("localhost:4568", "http://localhost:4568", false, true)
	f("app.localhost:4568", "", true, true)
	f("127.0.0.1:4568", "", true, true)
	f("127.0.0.1:4568", "http://127.0.0.1:9999", true, false)
	f("evil.example:4568", "http://evil.example:4568", true, false)
	f("evil.example:4568", "", true, false)
	f("127.0.0.1:4568", "null", true, false)
}
