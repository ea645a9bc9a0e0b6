package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCORS checks preflights and the CORS headers of API answers on both
// transports, with auth none and sigv4, and that the admin listener serves
// none. Source: kinesalite's test/connection.js, recorded against AWS
// ("should set CORS if OPTIONS and Origin and no auth", "... and auth",
// "... and Headers", "... and Headers and Method", and "should return CBOR
// UnknownOperationException and set CORS if using Origin"), and the headers
// its index.js sends.
func TestCORS(t *testing.T) {
	type want struct {
		status                int
		allowHeaders, methods string // "" means absent
		preflight             bool   // Max-Age, empty body, no Content-Type
		expose                bool
	}
	check := func(t *testing.T, r wireResponse, w want) {
		t.Helper()
		h := r.header
		bad := r.status != w.status || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Headers") != w.allowHeaders || h.Get("Access-Control-Allow-Methods") != w.methods ||
			h.Get("X-Amzn-Requestid") == ""
		if w.preflight {
			bad = bad || h.Get("Access-Control-Max-Age") != "172800" || h.Get("Content-Length") != "0" || len(r.body) != 0 ||
				h.Get("Content-Type") != "" || h.Get("Access-Control-Expose-Headers") != ""
		} else {
			bad = bad || h.Get("Access-Control-Max-Age") != ""
		}
		if exp := h.Get("Access-Control-Expose-Headers"); w.expose && exp != corsExposeHeaders {
			bad = true
		}
		if bad {
			t.Fatalf("%d %v %q, want %+v", r.status, h, r.body, w)
		}
	}
	const origin = "http://app.example"
	json11 := "application/x-amz-json-1.1"
	for _, mode := range []string{"none", "sigv4"} {
		e := newEnv(t)
		if mode == "sigv4" {
			e = newAuthEnv(t)
		}
		e.each(t, func(t *testing.T, c testClient) {
			t.Run(mode+"/preflight", func(t *testing.T) {
				check(t, c.send(t, e.addr, http.MethodOptions, nil, "Origin", origin),
					want{status: 200, preflight: true})
				check(t, c.send(t, e.addr, http.MethodOptions, nil, "Origin", origin, "Access-Control-Request-Headers", "a, b, c"),
					want{status: 200, preflight: true, allowHeaders: "a, b, c"})
				check(t, c.send(t, e.addr, http.MethodOptions, nil, "Origin", origin,
					"Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent", "Access-Control-Request-Method", "POST"),
					want{status: 200, preflight: true, allowHeaders: "content-type,x-amz-target,x-amz-user-agent", methods: "POST"})
			})
			t.Run(mode+"/request", func(t *testing.T) {
				r := c.send(t, e.addr, http.MethodPost, []byte(`{}`), "Origin", origin, "X-Amz-Target", targetPrefix+"ListStreams", "Content-Type", json11)
				wantStatus := 200
				if mode == "sigv4" {
					wantStatus = 400 // MissingAuthenticationTokenException, with CORS
				}
				check(t, r, want{status: wantStatus, expose: true})
				check(t, c.send(t, e.addr, http.MethodPost, []byte(`{}`), "Origin", origin, "X-Amz-Target", "Whatever.Whatever", "Content-Type", json11),
					want{status: 400, expose: true})
			})
			t.Run(mode+"/no origin", func(t *testing.T) {
				r := c.send(t, e.addr, http.MethodOptions, nil)
				if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
					t.Fatalf("OPTIONS without Origin: %d %v", r.status, r.header)
				}
				r = c.send(t, e.addr, http.MethodPost, []byte(`{}`), "X-Amz-Target", targetPrefix+"ListStreams", "Content-Type", json11)
				if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Expose-Headers") != "" {
					t.Fatalf("CORS headers without Origin: %v", r.header)
				}
			})
		})
	}
	// The admin listener: pages of other origins are refused, never told
	// they may read (admin.go).
	e := newEnv(t)
	admin := startAdmin(t, e)
	r := e.clients[0].send(t, admin, http.MethodOptions, nil, "Origin", origin, "Access-Control-Request-Method", "POST")
	if r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("admin preflight: %d %v", r.status, r.header)
	}
}

// corsPage is a page of another origin that calls the daemon at api with
// fetch, as a browser app would without the SDK: CreateStream, PutRecord,
// GetShardIterator and GetRecords with JSON bodies and X-Amz-Target
// headers (each a preflighted request), then reports the record it read
// back, or the first failure, in document.title. Like the JS SDK in a
// browser, it sends X-Amz-Date and an Authorization header (of SigV4's
// shape: auth mode none checks no more), so the preflight asks for them.
const corsPage = `<!doctype html><title>running</title><script>
const api = %q;
async function call(op, body) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const r = await fetch(api, {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.' + op,
      'X-Amz-Date': amzDate,
      'Authorization': 'AWS4-HMAC-SHA256 Credential=page/' + amzDate.slice(0, 8) +
        '/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=' + '0'.repeat(64)}});
  const text = await r.text();
  if (!r.ok) throw new Error(op + ' ' + r.status + ' ' + text);
  if (!r.headers.get('x-amzn-RequestId')) throw new Error(op + ': x-amzn-RequestId not exposed');
  return text ? JSON.parse(text) : {};
}
(async () => {
  try {
    await call('CreateStream', {StreamName: 'web', ShardCount: 1});
    const put = await call('PutRecord', {StreamName: 'web', PartitionKey: 'k', Data: btoa('hello from a page')});
    const it = await call('GetShardIterator', {StreamName: 'web', ShardId: put.ShardId, ShardIteratorType: 'TRIM_HORIZON'});
    const got = await call('GetRecords', {ShardIterator: it.ShardIterator});
    document.title = 'ok ' + atob(got.Records[0].Data);
  } catch (e) {
    document.title = 'failed ' + e.message;
  }
})();
</script>`

// TestCORSBrowser runs corsPage in headless Chromium from an origin that is
// not the daemon's (another port), proving a browser app can talk to the
// API port with auth none. It skips, as the console browser tests do,
// when no Chromium is installed (CI installs it: .ci/run).
func TestCORSBrowser(t *testing.T) {
	e := newEnv(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, corsPage, "http://"+e.addr+"/")
	}))
	t.Cleanup(page.Close)
	ctx := newBrowser(t)
	browse(t, ctx, 20*time.Second, "cross-origin page",
		chromedp.Navigate(page.URL),
		chromedp.Poll[chromedp.Void](`!document.title.startsWith('running')`, chromedp.WithPollingTimeout(15*time.Second)),
	)
	if title := browserValue(t, ctx, chromedp.Title()); title != "ok hello from a page" {
		t.Fatalf("page reports %q", title)
	}
}
