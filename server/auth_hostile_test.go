package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/sdkhttp"
	"github.com/shardlog/shardlog/server/sigv4"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// signedRequest builds a JSON 1.1 request for op, signs it with the SDK's
// signer and then lets edit change it, as an attacker replaying a captured
// request would.
func signedRequest(t *testing.T, addr, op, body string, edit func(r *http.Request)) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", targetPrefix+op)
	h := sha256.Sum256([]byte(body))
	sum := hex.EncodeToString(h[:])
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sum, "kinesis", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(r)
	}
	return r
}

// dropSigned removes name from the SignedHeaders of r's Authorization.
func dropSigned(r *http.Request, name string) {
	a := r.Header.Get("Authorization")
	a = strings.Replace(a, name+";", "", 1)
	a = strings.Replace(a, ";"+name+",", ",", 1)
	r.Header.Set("Authorization", a)
}

// TestSigV4SignedHeaders: a signature must cover host, the date, the
// target and every other x-amz-* header, or a captured request can be
// replayed elsewhere or as another operation (issue 14, attack 4).
func TestSigV4SignedHeaders(t *testing.T) {
	e := newAuthEnv(t)
	e.createStream("app", 1)
	describe := `{"StreamName":"app"}`
	cases := []struct {
		name string
		op   string
		edit func(r *http.Request)
		typ  string
		msg  string
	}{
		{"valid", "DescribeStreamSummary", nil, "", ""},
		{"host not signed", "DescribeStreamSummary", func(r *http.Request) { dropSigned(r, "host") },
			wire.IncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"date not signed", "DescribeStreamSummary", func(r *http.Request) { dropSigned(r, "x-amz-date") },
			wire.IncompleteSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{"target not signed", "DescribeStreamSummary", func(r *http.Request) { dropSigned(r, "x-amz-target") },
			wire.IncompleteSignature, "There were headers present in the request which were not signed: 'x-amz-target'"},
		// The replay: a DescribeStream signed without its target, sent as
		// DeleteStream with the same body and signature.
		{"replayed as DeleteStream", "DescribeStreamSummary", func(r *http.Request) {
			dropSigned(r, "x-amz-target")
			r.Header.Set("X-Amz-Target", targetPrefix+"DeleteStream")
		}, wire.IncompleteSignature, "There were headers present in the request which were not signed: 'x-amz-target'"},
		{"target changed, still signed", "DescribeStreamSummary", func(r *http.Request) {
			r.Header.Set("X-Amz-Target", targetPrefix+"DeleteStream")
		}, wire.InvalidSignature, "The request signature we calculated does not match"},
		{"extra x-amz header added", "DescribeStreamSummary", func(r *http.Request) { r.Header.Set("X-Amz-Foo", "1") },
			wire.IncompleteSignature, "There were headers present in the request which were not signed: 'x-amz-foo'"},
		{"x-amzn header need not be signed", "DescribeStreamSummary", func(r *http.Request) { r.Header.Set("X-Amzn-Trace-Id", "1") }, "", ""},
		{"security token without a session key", "DescribeStreamSummary", func(r *http.Request) {
			r.Header.Set("X-Amz-Security-Token", "forged")
		}, wire.IncompleteSignature, "There were headers present in the request which were not signed: 'x-amz-security-token'"},
	}
	e.each(t, func(t *testing.T, c testClient) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := c.http.Do(signedRequest(t, e.addr, tc.op, describe, tc.edit))
				if err != nil {
					t.Fatal(err)
				}
				r := readRaw(t, resp)
				if tc.typ == "" {
					if r.status != 200 {
						t.Fatalf("status %d: %v", r.status, r.body)
					}
					return
				}
				wantRawPrefix(t, r, 400, tc.typ, tc.msg)
			})
		}
	})
	if _, err := e.store.Stream("app"); err != nil {
		t.Fatalf("the stream is gone after the replays: %v", err)
	}
}

// TestSigV4SessionToken: a key configured with a session token (temporary
// credentials, as SSO and assumed roles give SDK users) needs that token,
// signed, in X-Amz-Security-Token; a long-term key refuses any token.
func TestSigV4SessionToken(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Auth = Auth{Mode: AuthSigV4, Keys: []AuthKey{
			{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "the-token", Policy: mustPolicy(t, adminPolicy)},
			{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Policy: mustPolicy(t, adminPolicy)},
		}}
	})
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		with := func(id, secret, token string) error {
			cl := kinesis.New(kinesis.Options{
				Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
				BaseEndpoint: aws.String("http://" + e.addr), HTTPClient: sdkhttp.DetachBodies(c.http), Retryer: aws.NopRetryer{},
			})
			_, err := cl.ListStreams(ctx, &kinesis.ListStreamsInput{})
			return err
		}
		if err := with("ASIATEMP", "temp-secret", "the-token"); err != nil {
			t.Fatalf("temporary key with its token: %v", err)
		}
		for _, tc := range []struct{ id, secret, token string }{
			{"ASIATEMP", "temp-secret", ""},
			{"ASIATEMP", "temp-secret", "another-token"},
			{"AKIDEXAMPLE", "secret", "the-token"},
		} {
			wantAuthError(t, with(tc.id, tc.secret, tc.token), wire.UnrecognizedClient, 400, "The security token included in the request is invalid.")
		}
	})
}

// TestRefusedBeforeBody: a request whose headers already fail (no or an
// unknown key, a declared length over the operation's limit) is answered
// before its body is sent, over HTTP/1.1 (then the connection closes) and
// over h2c (the stream is reset; the connection lives on).
func TestRefusedBeforeBody(t *testing.T) {
	e := newAuthEnv(t)
	const big = 15 << 20
	cases := []struct {
		name, op string
		length   int
		header   func(r *http.Request)
		typ      string
		status   int
	}{
		{"no credentials", "PutRecords", big, nil, wire.MissingToken, 400},
		{"unknown key", "PutRecords", big, func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().UTC().Format(sigv4.AmzDateLayout))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/"+time.Now().UTC().Format("20060102")+
				"/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64))
		}, wire.UnrecognizedClient, 400},
		{"control operation over its limit", "DescribeStream", controlBodyBytes + 1, func(r *http.Request) {
			signed := signedRequest(t, e.addr, "DescribeStream", "", nil)
			r.Header.Set("X-Amz-Date", signed.Header.Get("X-Amz-Date"))
			r.Header.Set("Authorization", signed.Header.Get("Authorization"))
		}, wire.Validation, 413},
	}
	e.each(t, func(t *testing.T, c testClient) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// The body trickles: the answer must arrive long before it
				// could have been read.
				body := &slowBody{left: tc.length, done: make(chan struct{})}
				defer close(body.done)
				r, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", body)
				r.ContentLength = int64(tc.length)
				r.Header.Set("Content-Type", "application/x-amz-json-1.1")
				r.Header.Set("X-Amz-Target", targetPrefix+tc.op)
				if tc.header != nil {
					tc.header(r)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				// protoCheck would read the whole body first: go around it.
				began := time.Now()
				resp, err := c.http.Transport.(*protoCheck).rt.RoundTrip(r.WithContext(ctx))
				if err != nil {
					t.Fatalf("no answer before the body: %v", err)
				}
				// At 100 KiB/s, a second is under 1% of the body.
				if took := time.Since(began); took > time.Second {
					t.Fatalf("answered after %v: the body was being read", took)
				}
				wantRawPrefix(t, readRaw(t, resp), tc.status, tc.typ, "")
			})
		}
	})
	// Over HTTP/1.1 the refused connection is closed, not drained.
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "+
		targetPrefix+"PutRecords\r\nContent-Length: 15000000\r\n\r\n{")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Close {
		t.Fatalf("refused HTTP/1.1 request left the connection open: %v", resp.Header)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the refusal the server kept the connection: read %d, %v", n, err)
	}
}

// wantRawPrefix checks a hand-made request's status, error type and the
// start of its message.
func wantRawPrefix(t *testing.T, r rawResponse, status int, typ, msgPrefix string) {
	t.Helper()
	msg, _ := r.body["message"].(string)
	if r.status != status || r.body["__type"] != typ || !strings.HasPrefix(msg, msgPrefix) {
		t.Fatalf("got %d %v %q,\nwant %d %s %q...", r.status, r.body["__type"], msg, status, typ, msgPrefix)
	}
}

// slowBody is a request body of left zero bytes sent 1 KiB every 10 ms (a
// 15 MiB body would take over two minutes), until done is closed.
type slowBody struct {
	left int
	done chan struct{}
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	select {
	case <-b.done:
		return 0, io.ErrUnexpectedEOF
	case <-time.After(10 * time.Millisecond):
	}
	n := min(len(p), 1024, b.left)
	clear(p[:n])
	b.left -= n
	return n, nil
}
