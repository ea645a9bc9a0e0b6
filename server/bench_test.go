package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/shardlog/shardlog/server/wire"
)

// BenchmarkPutRecordsHTTP sends PutRecords of 500 records of 100 bytes
// through the real HTTP/1.1 path over loopback, from GOMAXPROCS goroutines.
// Bytes are record data bytes.
func BenchmarkPutRecordsHTTP(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	e.createStream("bench", 4)
	body := putRecordsBody("bench")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := "http://" + e.addr + "/"
	b.SetBytes(500 * 100)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !postOK(b, client, url, "PutRecords", body) {
				return
			}
		}
	})
}

// postOK sends body to op at url with the SigV4 header shape auth mode
// none requires, reads the answer and reports whether it was 200; it
// reports anything else as a benchmark error.
func postOK(b *testing.B, client *http.Client, url, op string, body []byte) bool {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	shapeAuth(req)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("%s: status %d", op, resp.StatusCode)
		return false
	}
	return true
}

// putRecordsBody is the JSON body of a PutRecords of 500 records of 100
// bytes to stream, each with its own partition key.
func putRecordsBody(stream string) []byte {
	type entry struct {
		Data         []byte
		PartitionKey string
	}
	records := make([]entry, 500)
	for i := range records {
		records[i] = entry{Data: bytes.Repeat([]byte{byte(i)}, 100), PartitionKey: "pk-" + strconv.Itoa(i)}
	}
	body, _ := json.Marshal(map[string]any{"StreamName": stream, "Records": records})
	return body
}

// BenchmarkPutRecordsLarge sends PutRecords of 500 × 1 KiB (a 680 KB body)
// through the AWS SDK over each transport, one request at a time: over h2c
// the body crosses HTTP/2 flow control (64 KiB windows).
func BenchmarkPutRecordsLarge(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	e.createStream("bench", 4)
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{Data: bytes.Repeat([]byte{byte(i)}, 1024), PartitionKey: aws.String("pk-" + strconv.Itoa(i))}
	}
	for _, c := range e.clients {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(500 * 1024)
			for b.Loop() {
				if _, err := c.sdk.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: entries}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutRecordTransports sends PutRecord of 100 bytes over loopback
// from 16 goroutines, over HTTP/1.1 and over h2c, with the net/http clients
// of the tests. Client and server share the process, so cpu-µs/op (the
// process's CPU time per request) counts both; the clients differ too
// (net/http's HTTP/1.1 and HTTP/2 transports), so an independent client
// (h2load) measures the servers (fasthttp against server/h2) better.
func BenchmarkPutRecordTransports(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	e.createStream("one", 4)
	body := []byte(`{"StreamName":"one","PartitionKey":"user-42","Data":"` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 100)) + `"}`)
	for _, c := range e.clients {
		b.Run(c.name, func(b *testing.B) {
			url := "http://" + e.addr + "/"
			b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			began := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !postOK(b, c.http, url, "PutRecord", body) {
						return
					}
				}
			})
			b.ReportMetric(float64((processCPU(b)-began).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkPutRecordHandler measures the server's side of PutRecord alone,
// one 100-byte record per request as a producer without batching sends
// it: the fasthttp handler (headers, routing, the auth shape check, JSON,
// the append, the response) and the response written as to a connection.
func BenchmarkPutRecordHandler(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	e.createStream("one", 4)
	in := map[string]any{"StreamName": "one", "PartitionKey": "user-42", "Data": bytes.Repeat([]byte("x"), 100)}
	for _, r := range requestsInCodecs(e, "PutRecord", in) {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			serveInLoop(b, e, r.req, r.body)
		})
	}
}

// codecRequest is a benchmark's request in one codec.
type codecRequest struct {
	name string // json or cbor
	cbor bool
	req  *http.Request
	body []byte
}

// requestsInCodecs returns the request for op with the members of in, in
// JSON and in CBOR (as the Java SDK and the KCL send it), with what auth
// mode none requires.
func requestsInCodecs(e *testEnv, op string, in any) []codecRequest {
	var out []codecRequest
	for _, c := range []wire.Codec{wire.JSON{}, wire.CBOR{}} {
		r := codecRequest{name: "json"}
		r.body, _ = json.Marshal(in)
		if _, r.cbor = c.(wire.CBOR); r.cbor {
			r.name = "cbor"
			r.body, _ = wire.CBOREncMode.Marshal(in)
		}
		r.req, _ = http.NewRequest(http.MethodPost, "http://"+e.addr+"/", bytes.NewReader(r.body))
		r.req.Header.Set("X-Amz-Target", targetPrefix+op)
		r.req.Header.Set("Content-Type", c.ContentType())
		shapeAuth(r.req)
		out = append(out, r)
	}
	return out
}

// serveInLoop answers req (with body) through the server's fasthttp handler
// for every benchmark iteration and writes each response as to a
// connection, to io.Discard; no client runs.
func serveInLoop(b *testing.B, e *testEnv, req *http.Request, body []byte) {
	b.Helper()
	serveInLoopTo(b, e, req, body, io.Discard)
}

// serveInLoopTo is serveInLoop writing the responses to dst. It returns
// the CPU time the whole process spent in the loop (every goroutine, the
// garbage collector's included), which wall time understates when a
// response is produced by more than one goroutine.
func serveInLoopTo(b *testing.B, e *testEnv, req *http.Request, body []byte, dst io.Writer) time.Duration {
	b.Helper()
	var fr fasthttp.Request
	fr.Header.SetMethod(http.MethodPost)
	fr.SetRequestURI("/")
	fr.Header.SetHost(req.Host)
	for name, vs := range req.Header {
		fr.Header.Set(name, vs[0])
	}
	fr.SetBody(body)
	handler := e.srv.RequestHandler()
	var ctx fasthttp.RequestCtx
	ctx.Init2(&benchConn{remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}, benchLogger{}, true)
	fr.CopyTo(&ctx.Request)
	w := bufio.NewWriterSize(dst, 4096)
	began := processCPU(b)
	for b.Loop() {
		ctx.Response.Reset()
		handler(&ctx)
		if ctx.Response.StatusCode() != http.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		if err := ctx.Response.Write(w); err != nil {
			b.Fatal(err)
		}
	}
	return processCPU(b) - began
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchConn is the connection serveInLoopTo's requests arrive on: it has
// addresses and takes deadlines (SubscribeToShard clears its write
// deadline), but its bytes are never read or written.
type benchConn struct {
	net.Conn // nil: Read and Write are never called
	remote   net.Addr
}

func (c *benchConn) RemoteAddr() net.Addr             { return c.remote }
func (c *benchConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *benchConn) SetDeadline(time.Time) error      { return nil }
func (c *benchConn) SetReadDeadline(time.Time) error  { return nil }
func (c *benchConn) SetWriteDeadline(time.Time) error { return nil }

// benchLogger discards fasthttp's own log lines.
type benchLogger struct{}

func (benchLogger) Printf(string, ...any) {}

// BenchmarkPutRecordsHandler measures the server's side of PutRecords
// alone, 500 records of 100 bytes a request (1,000 partition keys), in
// JSON and in CBOR (as the Java SDK sends it): the fasthttp handler and
// the response written as to a connection. cpu-ns/record is the process's
// CPU time per record.
func BenchmarkPutRecordsHandler(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.Logger = zerolog.Nop() })
	e.createStream("batch", 4)
	type entry struct {
		Data         []byte
		PartitionKey string
	}
	in := struct {
		StreamName string
		Records    []entry
	}{StreamName: "batch"}
	for i := 0; i < 500; i++ {
		in.Records = append(in.Records, entry{Data: bytes.Repeat([]byte{byte(i)}, 100), PartitionKey: "pk-" + strconv.Itoa(i%1000)})
	}
	for _, r := range requestsInCodecs(e, "PutRecords", in) {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(500 * 100)
			b.ReportAllocs()
			cpu := serveInLoopTo(b, e, r.req, r.body, io.Discard)
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/500, "cpu-ns/record")
		})
	}
}
