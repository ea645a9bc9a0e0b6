package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// TestConnectionFloodPastOpenFilesLimit runs the daemon with auth on and
// `ulimit -n 256` and opens 600 connections to it at once, more than it has
// file descriptors for. It must not exit: it backs off, counts the failed
// accepts in /metrics (read on the admin listener, as the API port refuses
// /metrics under sigv4), and once the flood is closed it serves signed
// requests again within 10 s.
func TestConnectionFloodPastOpenFilesLimit(t *testing.T) {
	d, ok := launchDaemon(t, launch{bin: shardlogBinary(t), dir: t.TempDir(), shell: "ulimit -n 256", cfg: authConfigYAML})
	if !ok {
		t.Fatalf("shardlog exited before serving: %v", <-d.exited)
	}
	if d.Started.Admin == "" {
		t.Fatalf("no admin listener under sigv4: start line %+v", d.Started)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Signed by the key authConfigYAML allows everything; each attempt
	// after the flood opens a new connection, which the daemon must accept.
	hc := &http.Client{Timeout: 5 * time.Second}
	c := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(d.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSHARDLOGTEST", "shardlog-test-secret", ""),
		HTTPClient:   sdkhttp.DetachBodies(hc),
		Retryer:      aws.NopRetryer{},
	})
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("flood"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if n := scrapeAcceptErrors(t, d.Endpoint, http.StatusForbidden); n >= 0 {
		t.Fatal("/metrics served on the API port under sigv4")
	}
	addr := strings.TrimPrefix(d.Endpoint, "http://")
	var flood []net.Conn
	for i := 0; i < 600; i++ {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			break // the listen backlog is full: enough
		}
		flood = append(flood, conn)
	}
	time.Sleep(500 * time.Millisecond) // the daemon meets EMFILE meanwhile
	if !d.alive() {
		t.Fatal("the daemon exited during the connection flood")
	}
	for _, conn := range flood {
		conn.Close()
	}
	closed := time.Now()
	deadline := closed.Add(10 * time.Second)
	for {
		hc.CloseIdleConnections()
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("flood"), Data: []byte("x"), PartitionKey: aws.String("k")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving signed requests 10 s after the flood: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovered := time.Since(closed)
	n := scrapeAcceptErrors(t, "http://"+d.Started.Admin, http.StatusOK)
	if n <= 0 {
		t.Fatalf("%d connections held open against 256 file descriptors, but no accept failed", len(flood))
	}
	t.Logf("%d connections opened against ulimit -n 256: %d accepts failed and were retried; a signed PutRecord succeeded %v after the flood closed",
		len(flood), n, recovered.Round(time.Millisecond))
}

// scrapeAcceptErrors GETs base/metrics, wants status, and returns
// shardlog_accept_errors_total, or -1 when the answer is not metrics.
func scrapeAcceptErrors(t *testing.T, base string, status int) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s/metrics: %d, want %d: %.200s", base, resp.StatusCode, status, body)
	}
	if status != http.StatusOK {
		return -1
	}
	m := regexp.MustCompile(`(?m)^shardlog_accept_errors_total (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatal("/metrics has no shardlog_accept_errors_total")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
