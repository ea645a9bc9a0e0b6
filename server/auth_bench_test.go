package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
)

// BenchmarkPutRecordsAuth is BenchmarkPutRecordsHTTP (500 records of 100
// bytes over HTTP/1.1 loopback) with auth none and sigv4 in the same run.
// The request is signed once by the SDK's signer and replayed (valid for 5
// minutes, as at AWS) in both modes, so the requests are the same: the
// client's signing cost stays out of the measurement, while under sigv4 the
// server verifies every request in full — parse, body SHA-256, canonical
// request, HMAC, policy check (mode none checks only the header's shape).
func BenchmarkPutRecordsAuth(b *testing.B) {
	for _, mode := range []AuthMode{AuthNone, AuthSigV4} {
		b.Run(string(mode), func(b *testing.B) {
			_, req, body := newAuthBench(b, mode)
			url, header := req.URL.String(), req.Header
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.SetBytes(500 * 100)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header = header.Clone()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					msg, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d: %s", resp.StatusCode, msg)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPutRecordsAuthHandler is the server's own cost of one
// PutRecords of 500 × 100 B, with auth none and sigv4 in the same run: the
// request is handed to the fasthttp handler in memory, so neither a client
// nor the network is measured. The sigv4/none ratio of ns/op is the share
// of the server's time that verification adds.
func BenchmarkPutRecordsAuthHandler(b *testing.B) {
	for _, mode := range []AuthMode{AuthNone, AuthSigV4} {
		b.Run(string(mode), func(b *testing.B) {
			e, req, body := newAuthBench(b, mode)
			var fr fasthttp.Request
			fr.Header.SetMethod(http.MethodPost)
			fr.SetRequestURI("/")
			fr.Header.SetHost(req.Host)
			for name, vs := range req.Header {
				fr.Header.Set(name, vs[0])
			}
			fr.SetBody(body)
			fr.Header.SetContentLength(len(body))
			handler := e.srv.RequestHandler()
			var ctx fasthttp.RequestCtx
			ctx.Init(&fr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			b.SetBytes(500 * 100)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				handler(&ctx)
				if ctx.Response.StatusCode() != http.StatusOK {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}

// newAuthBench starts a server in auth mode with key AKIDAPP (the seed
// policy) and a 4-shard stream "app", and returns it with a PutRecords of
// 500 × 100 B to "app" signed by AKIDAPP, and that request's body. The
// request is signed in both modes (mode none checks only the shape), so
// only verification differs; the signature stays valid for the 5 minutes
// of clock skew AWS allows, so a benchmark can replay it.
func newAuthBench(b *testing.B, mode AuthMode) (*testEnv, *http.Request, []byte) {
	b.Helper()
	e := newEnv(b, func(o *Options) {
		o.Logger = zerolog.Nop()
		o.Auth = Auth{Mode: mode, Keys: []AuthKey{{AccessKeyID: "AKIDAPP", SecretAccessKey: "app-secret", Policy: mustPolicy(b, seedPolicy)}}}
	})
	e.createStream("app", 4)
	body := putRecordsBody("app")
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+"PutRecords")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDAPP", SecretAccessKey: "app-secret"},
		req, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	return e, req, body
}
