package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Attacks by clients without valid credentials against a real sigv4 daemon, each answered with
// AWS's error type while the daemon's peak memory stays bounded.

// peakRSS returns the daemon's peak resident set (VmHWM), in bytes.
func (d *daemon) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// trickle is a request body of n zero bytes sent 1 KiB every 10 ms (a
// 15 MiB body would take over two minutes), until stop is closed.
type trickle struct {
	n    int
	stop chan struct{}
}

func (b *trickle) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, io.EOF
	}
	select {
	case <-b.stop:
		return 0, io.ErrUnexpectedEOF
	case <-time.After(10 * time.Millisecond):
	}
	k := min(len(p), 1024, b.n)
	clear(p[:k])
	b.n -= k
	return k, nil
}

// transports are the two cleartext protocols of the API port.
func transports() map[string]*http.Transport {
	h2 := new(http.Protocols)
	h2.SetUnencryptedHTTP2(true)
	return map[string]*http.Transport{"http1": {}, "h2c": {Protocols: h2}}
}

// sign signs r (whose body is body) as key AKIDSHARDLOGTEST of
// authConfigYAML.
func sign(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDSHARDLOGTEST", SecretAccessKey: "shardlog-test-secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// readAPIError reads an error response: its status, __type, message and size.
func readAPIError(t *testing.T, resp *http.Response) (status int, typ, msg string, size int) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Type, e.Message, len(b)
}

// TestUnauthenticatedBodiesRefusedUnread: 20 concurrent PutRecords of
// 15 MiB each, trickled, without credentials or with an unknown key, over
// HTTP/1.1 and h2c, are each answered before their bodies are read, and the
// daemon's peak RSS stays under 256 MiB (attack 1).
func TestUnauthenticatedBodiesRefusedUnread(t *testing.T) {
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	const clients, size = 20, 15 << 20
	creds := map[string]struct {
		auth string
		typ  string
	}{
		"no credentials": {"", "MissingAuthenticationTokenException"},
		"unknown key": {"AWS4-HMAC-SHA256 Credential=AKIDNOBODY/" + time.Now().UTC().Format("20060102") +
			"/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64),
			"UnrecognizedClientException"},
	}
	for proto, tr := range transports() {
		for name, c := range creds {
			t.Run(proto+"/"+name, func(t *testing.T) {
				stop := make(chan struct{})
				defer close(stop)
				var wg sync.WaitGroup
				errs := make(chan string, clients)
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, _ := http.NewRequest(http.MethodPost, d.Endpoint, &trickle{n: size, stop: stop})
						r.ContentLength = size
						r.Header.Set("Content-Type", "application/x-amz-json-1.1")
						r.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
						r.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
						if c.auth != "" {
							r.Header.Set("Authorization", c.auth)
						}
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						began := time.Now()
						resp, err := tr.RoundTrip(r.WithContext(ctx))
						if err != nil {
							errs <- err.Error()
							return
						}
						took := time.Since(began)
						status, typ, _, _ := readAPIError(t, resp)
						if status != 400 || typ != c.typ || took > 2*time.Second {
							errs <- fmt.Sprintf("%d %s after %v, want 400 %s within 2s (200 KiB of 15 MiB)", status, typ, took, c.typ)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for e := range errs {
					t.Error(e)
				}
			})
		}
	}
	peak := d.peakRSS(t)
	t.Logf("peak RSS after %d×4 refused 15 MiB bodies: %d MiB", clients, peak>>20)
	if peak > 256<<20 {
		t.Fatalf("peak RSS %d MiB, want under 256 MiB", peak>>20)
	}
}

// TestEmptyEntriesBounded: a 15 MB PutRecords of empty entries (five
// million "{}") from a valid key gets a ValidationException whose body is
// under 16 KiB, and the daemon's peak RSS stays under 512 MiB (attack 2).
func TestEmptyEntriesBounded(t *testing.T) {
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	kinesisClient(d.Endpoint).CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("app"), ShardCount: aws.Int32(1)})
	var body bytes.Buffer
	body.WriteString(`{"StreamName":"app","Records":[{}`)
	for body.Len() < 15_000_000 {
		body.WriteString(`,{}`)
	}
	body.WriteString(`]}`)
	for proto, tr := range transports() {
		t.Run(proto, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, d.Endpoint, bytes.NewReader(body.Bytes()))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
			sign(t, r, body.Bytes())
			resp, err := tr.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			status, typ, msg, size := readAPIError(t, resp)
			t.Logf("%d %s, body %d bytes: %.200s...", status, typ, size, msg)
			if status != 400 || typ != "ValidationException" || size >= 16<<10 {
				t.Fatalf("got %d %s with a %d-byte body, want 400 ValidationException under 16 KiB", status, typ, size)
			}
		})
	}
	peak := d.peakRSS(t)
	t.Logf("peak RSS after two 15 MB PutRecords of empty entries: %d MiB", peak>>20)
	if peak > 512<<20 {
		t.Fatalf("peak RSS %d MiB, want under 512 MiB", peak>>20)
	}
}

// TestSignedHeadersReplay: requests whose signature leaves out host or
// x-amz-target are IncompleteSignatureException, so a captured
// DescribeStreamSummary cannot be replayed as DeleteStream; /metrics is
// refused on the API port (attacks 4 and 6).
func TestSignedHeadersReplay(t *testing.T) {
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	if _, err := kinesisClient(d.Endpoint).CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("app"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"StreamName":"app"}`)
	// signedWithout signs a DescribeStreamSummary without header name (the
	// header is set after signing, or left out of SignedHeaders), then
	// sends it as target.
	signedWithout := func(name, target string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, d.Endpoint, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if name != "x-amz-target" {
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DescribeStreamSummary")
		}
		sign(t, r, body)
		if name == "host" {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, "host;", "", 1))
		}
		r.Header.Set("X-Amz-Target", target)
		return r
	}
	cases := []struct {
		name string
		req  *http.Request
		typ  string
	}{
		{"target not signed, replayed as DeleteStream", signedWithout("x-amz-target", "Kinesis_20131202.DeleteStream"), "IncompleteSignatureException"},
		{"host not signed", signedWithout("host", "Kinesis_20131202.DescribeStreamSummary"), "IncompleteSignatureException"},
		{"signed target changed to DeleteStream", signedWithout("", "Kinesis_20131202.DeleteStream"), "InvalidSignatureException"},
	}
	for proto, tr := range transports() {
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				req := tc.req.Clone(context.Background())
				req.Body = io.NopCloser(bytes.NewReader(body))
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if status, typ, msg, _ := readAPIError(t, resp); status != 400 || typ != tc.typ {
					t.Fatalf("got %d %s %q, want 400 %s", status, typ, msg, tc.typ)
				}
			})
		}
	}
	if _, err := kinesisClient(d.Endpoint).DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("app")}); err != nil {
		t.Fatalf("the stream did not survive the replays: %v", err)
	}
	resp, err := http.Get(d.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if status, typ, _, _ := readAPIError(t, resp); status != http.StatusForbidden || typ != "AccessDeniedException" {
		t.Fatalf("GET /metrics without credentials under sigv4: %d %s, want 403 AccessDeniedException", status, typ)
	}
}
