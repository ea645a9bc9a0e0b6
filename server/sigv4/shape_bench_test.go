package sigv4

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkCheckShape measures the auth-mode-none check of every request
// on a PutRecord as the AWS SDK for Go v2 sends it, read by fasthttp. The
// request is reused, so fasthttp's parse of its URI, which a real request
// pays once, is paid by the first iteration only.
func BenchmarkCheckShape(b *testing.B) {
	raw := "POST / HTTP/1.1\r\nHost: 127.0.0.1:4567\r\nUser-Agent: aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/kinesis#1.56.13 m/E,g\r\n" +
		"Content-Length: 120\r\nAmz-Sdk-Invocation-Id: 6f1c8a8e-1d0b-4c5e-9a57-2f3c4b5d6e7f\r\nAmz-Sdk-Request: attempt=1; max=3\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/kinesis/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n" +
		"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20261207T044700Z\r\nX-Amz-Target: Kinesis_20131202.PutRecord\r\nAccept-Encoding: gzip\r\n\r\n"
	var ctx fasthttp.RequestCtx
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		b.Fatal(err)
	}
	h := (*FastHeaders)(&ctx)
	for b.Loop() {
		if e := CheckShape(h); e != nil {
			b.Fatal(e)
		}
	}
}
