package sdkhttp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestAnswerBeforeBodyIsSent drives the real SDK against a server that
// answers a PutRecords before it has read the request body, the order in
// which a fast server's answer can overtake net/http's last look at the
// body. It starts the answer, waits, reads the body and then finishes
// the answer. Socket buffers of 128 KiB, against a body of 2.8 MB, keep net/http
// writing the body meanwhile. With the SDK's own body the call fails with the connection
// closed under the answer; with DetachBodies it succeeds. If the SDK
// ever stops closing bodies early, the first case passes and the wrapper
// can go.
func TestAnswerBeforeBodyIsSent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(*http.Transport) aws.HTTPClient
		fails  bool
	}{
		{"sdk-body", func(tr *http.Transport) aws.HTTPClient { return &http.Client{Transport: tr} }, true},
		{"detached", func(tr *http.Transport) aws.HTTPClient { return DetachBodies(&http.Client{Transport: tr}) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := earlyAnswerServer(t)
			tr := awshttp.NewBuildableClient().GetTransport()
			tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, a)
				if err == nil {
					err = c.(*net.TCPConn).SetWriteBuffer(128 << 10)
				}
				return c, err
			}
			c := kinesis.New(kinesis.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String("http://" + addr),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				HTTPClient:   tc.client(tr),
				Retryer:      aws.NopRetryer{},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			records := make([]types.PutRecordsRequestEntry, 64)
			for i := range records {
				records[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{'x'}, 32<<10)}
			}
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: records})
			switch {
			case tc.fails && err == nil:
				t.Fatal("the SDK's own body survived an early answer: DetachBodies may no longer be needed")
			case tc.fails && !strings.Contains(err.Error(), "use of closed network connection"):
				t.Fatalf("failed otherwise than expected: %v", err)
			case !tc.fails && err != nil:
				t.Fatal(err)
			case !tc.fails && *out.Records[0].SequenceNumber != "1":
				t.Fatalf("answer: %+v", out.Records[0])
			}
		})
	}
}

// earlyAnswerServer serves one connection: it reads the request's
// headers, writes the headers and first half of a PutRecords answer,
// waits, reads the request body and writes the rest of the answer.
func earlyAnswerServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.(*net.TCPConn).SetReadBuffer(128 << 10)
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil { // the request line
			return
		}
		h, err := textproto.NewReader(r).ReadMIMEHeader()
		if err != nil {
			return
		}
		n, _ := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		body := `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}`
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\n\r\n"+body[:10])
		time.Sleep(200 * time.Millisecond) // the client has the headers and closes its body
		io.CopyN(io.Discard, r, n)
		io.WriteString(conn, body[10:])
	}()
	return ln.Addr().String()
}
