package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/server/sdkhttp"
	"github.com/shardlog/shardlog/shard"
)

// testEnv is an in-process server on a loopback listener with a store in a
// temporary directory, and clients for both transports.
type testEnv struct {
	t     testing.TB
	dir   string
	store *shard.Store
	srv   *Server
	addr  string
	// skew is added to the server's clock (not the store's), to age iterators.
	skew atomic.Int64
	opts Options
	// storeOpt adjusts the store's options (nil: the defaults).
	storeOpt func(*shard.Options)
	// serverHook, when set, adjusts each new Server before it serves
	// (withEcho by default).
	serverHook func(*Server)

	serveDone chan error
	clients   []testClient
}

// testClient is one transport's view of the server.
type testClient struct {
	name string
	sdk  *kinesis.Client // AWS SDK for Go v2, retries off
	http *http.Client    // for raw requests the SDK would refuse to send
	// noAuth makes post send no Authorization header (see unsigned).
	noAuth bool
}

// unsigned returns c with post and call sending no Authorization header.
func (c testClient) unsigned() testClient {
	c.noAuth = true
	return c
}

// newEnv starts a server; opts may adjust Options (Now is always injected).
func newEnv(t testing.TB, opts ...func(*Options)) *testEnv {
	t.Helper()
	return newEnvStore(t, nil, opts...)
}

// newEnvStore is newEnv with storeOpt, when not nil, adjusting the store's
// options on every start.
func newEnvStore(t testing.TB, storeOpt func(*shard.Options), opts ...func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), storeOpt: storeOpt, serverHook: withEcho}
	e.opts = Options{Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}
	for _, f := range opts {
		f(&e.opts)
	}
	e.opts.Now = func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	e.start()
	h1 := &http.Client{Transport: &protoCheck{t: t, major: 1, rt: &http.Transport{}}}
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &protoCheck{t: t, major: 2, rt: &http.Transport{Protocols: protocols}}}
	e.clients = []testClient{
		{name: "http1", sdk: e.sdkClient(h1), http: h1},
		{name: "h2c", sdk: e.sdkClient(h2), http: h2},
	}
	t.Cleanup(e.stop)
	return e
}

func (e *testEnv) start() {
	e.t.Helper()
	so := shard.DefaultOptions(e.dir)
	so.Logger = e.opts.Logger
	if e.storeOpt != nil {
		e.storeOpt(&so)
	}
	st, err := shard.Open(so)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
	ln := e.listen()
	e.srv = New(st, e.opts)
	if e.serverHook != nil {
		e.serverHook(e.srv)
	}
	e.serveDone = make(chan error, 1)
	go func() { e.serveDone <- e.srv.Serve(ln) }()
}

// listen binds the same port across restarts, so clients keep working.
func (e *testEnv) listen() net.Listener {
	e.t.Helper()
	addr := e.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	return ln
}

func (e *testEnv) stop() {
	if e.srv == nil {
		return
	}
	for _, c := range e.clients {
		c.http.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
	if err := <-e.serveDone; err != nil {
		e.t.Errorf("serve: %v", err)
	}
	if err := e.store.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.srv = nil
}

// restart stops the server and the store and opens both again on the same
// directory and address.
func (e *testEnv) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func (e *testEnv) sdkClient(hc *http.Client) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String("http://" + e.addr),
		HTTPClient:   sdkhttp.DetachBodies(hc),
		Retryer:      aws.NopRetryer{},
	})
}

// each runs f once per transport as a subtest.
func (e *testEnv) each(t *testing.T, f func(t *testing.T, c testClient)) {
	for _, c := range e.clients {
		t.Run(c.name, func(t *testing.T) { f(t, c) })
	}
}

// createStream creates a stream directly in the store.
func (e *testEnv) createStream(name string, shards int) *shard.Stream {
	e.t.Helper()
	st, err := e.store.CreateStream(shard.StreamConfig{Name: name, ShardCount: shards})
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// rawResponse is a response to a hand-made request.
type rawResponse struct {
	status      int
	contentType string
	body        map[string]any
}

// post sends a hand-made request. target and contentType are omitted when
// "". It carries a dummy SigV4 header (shapeAuth) unless c.noAuth.
func (c testClient) post(t *testing.T, addr, method, target, contentType string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if !c.noAuth {
		shapeAuth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readRaw(t, resp)
}

// shapeAuth gives req what auth mode none requires of every request
// (sigv4.CheckShape), as AWS requires it: an X-Amz-Date header and a SigV4
// Authorization header of the right shape that signs host and every
// x-amz-* header. Its signature is zeros; nothing under mode none checks it.
// Call it after the request's other headers are set.
func shapeAuth(req *http.Request) {
	now := time.Now().UTC()
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	signed := []string{"host"}
	for name := range req.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") {
			signed = append(signed, l)
		}
	}
	sort.Strings(signed)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+now.Format("20060102")+
		"/us-east-1/kinesis/aws4_request, SignedHeaders="+strings.Join(signed, ";")+", Signature="+strings.Repeat("0", 64))
}

// shapeAuthLines is shapeAuth for a request written by hand: its
// X-Amz-Date and Authorization header lines, signing host, x-amz-date and
// x-amz-target.
func shapeAuthLines() string {
	now := time.Now().UTC()
	return "X-Amz-Date: " + now.Format("20060102T150405Z") + "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + now.Format("20060102") +
		"/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64) + "\r\n"
}

// readRaw reads and closes a response with a JSON body (or none).
func readRaw(t *testing.T, resp *http.Response) rawResponse {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := rawResponse{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("response %d is not JSON: %q", resp.StatusCode, b)
		}
	}
	return r
}

// call sends a JSON 1.1 request for op with a body marshalled from in.
func (c testClient) call(t *testing.T, addr, op string, in any) rawResponse {
	t.Helper()
	var body []byte
	switch v := in.(type) {
	case string:
		body = []byte(v)
	default:
		var err error
		if body, err = json.Marshal(in); err != nil {
			t.Fatal(err)
		}
	}
	return c.post(t, addr, http.MethodPost, targetPrefix+op, "application/x-amz-json-1.1", body)
}

// protoCheck fails the test when a response arrives over the wrong HTTP
// version, proving each client exercises the transport it is named after.
type protoCheck struct {
	t     testing.TB
	major int
	rt    http.RoundTripper
}

func (p *protoCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		// The Go SDK closes the request body as soon as the response headers
		// arrive, while net/http's HTTP/1.1 write loop may still be probing
		// the body for bytes past Content-Length; that probe then fails and
		// the transport closes the connection under the response being read
		// (a streaming SubscribeToShard, or a body not yet read). On
		// loopback a server answers fast enough to hit this; hand the
		// transport a copy the SDK cannot close.
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := p.rt.RoundTrip(r)
	if err == nil && resp.ProtoMajor != p.major {
		p.t.Errorf("response over HTTP/%d.%d, want HTTP/%d", resp.ProtoMajor, resp.ProtoMinor, p.major)
	}
	return resp, err
}

func (p *protoCheck) CloseIdleConnections() {
	if c, ok := p.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
