package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/shard"
)

// TestLargeResponseOutlivesHandler: a large GetRecords page is streamed,
// encoded a chunk at a time from the mapped records while it is written,
// long after the handler returned; its records and pooled buffers may be
// released only once it is sent. A client reads a page of about 11 MB
// (more than the socket buffers hold) slowly over HTTP/1.1 while other
// requests, over HTTP/1.1 and h2c, stream other pages; every byte it reads
// must still be its own page's.
func TestLargeResponseOutlivesHandler(t *testing.T) {
	// The slow response waits for a dozen 11 MB pages: under -race on two
	// cores that took 36-41 s, past the default write timeout.
	e := newEnv(t, func(o *Options) { o.WriteTimeout = 3 * time.Minute })
	e.createStream("big", 2)
	c := e.clients[0]
	ctx := context.Background()
	const perShard, size = 8000, 1024
	// Shard 0 holds records of 'a's, shard 1 of 'b's.
	fillShard(t, c, "big", "0", 'a', perShard, size)
	fillShard(t, c, "big", "340282366920938463463374607431768211455", 'b', perShard, size)
	iterator := func(shardID string) string {
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("big"), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		return *it.ShardIterator
	}

	// The slow reader pauses after the first kilobyte of the response.
	_, br, req := stalledGetRecords(t, e, iterator("shardId-000000000000"))

	// Meanwhile, pages of 'b's are encoded and sent to other clients.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.clients[g%len(e.clients)]
			for i := 0; i < 3; i++ {
				out, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iterator("shardId-000000000001"))})
				if err != nil || len(out.Records) != perShard {
					t.Errorf("GetRecords of shard 1: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond)

	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if resp.ContentLength != int64(len(raw)) {
		t.Errorf("Content-Length %d, body of %d bytes", resp.ContentLength, len(raw))
	}
	var page struct{ Records []struct{ Data []byte } }
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatalf("page of %d bytes does not parse: %v", len(raw), err)
	}
	if len(page.Records) != perShard {
		t.Fatalf("%d records, want %d", len(page.Records), perShard)
	}
	for i, r := range page.Records {
		if len(r.Data) != size || bytes.Count(r.Data, []byte{'a'}) != size {
			t.Fatalf("record %d is not shard 0's", i)
		}
	}
}

// TestShutdownEndsStreamedPages: a large GetRecords page still being
// written to a client that stopped reading when Shutdown gives up must not
// read its mapped segments once the store closes (that was a fault, or a
// panic releasing segments the close had already freed). The page fails,
// the process lives on, and the store reopens with every record.
func TestShutdownEndsStreamedPages(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.WriteTimeout = time.Minute })
	e.createStream("big", 1)
	c := e.clients[0]
	ctx := context.Background()
	const n, size = 4000, 1024
	fillShard(t, c, "big", "0", 'a', n, size)
	it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("big"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	conn, br, req := stalledGetRecords(t, e, *it.ShardIterator)
	// The client reads no more: Shutdown gives up on its connection.
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := e.srv.Shutdown(sctx); err == nil {
		t.Fatal("Shutdown returned while a page was being written to a stalled client")
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	// Now it reads on: the page ends short, and nothing faults.
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && int64(len(raw)) == resp.ContentLength {
		t.Fatalf("a page of %d bytes arrived whole after the store closed", len(raw))
	}
	conn.Close()
	if err := <-e.serveDone; err != nil {
		t.Errorf("serve: %v", err)
	}
	e.srv = nil // stopped here; the cleanup has nothing left to stop
	s, err := shard.Open(shard.DefaultOptions(e.dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stream("big")
	if err != nil {
		t.Fatal(err)
	}
	if tail := st.Shards()[0].Tail(); tail != n {
		t.Fatalf("%d records after reopening, want %d", tail, n)
	}
}

// fillShard puts n records of size bytes of fill into the shard of stream
// that hashKey routes to, 500 a request.
func fillShard(t *testing.T, c testClient, stream, hashKey string, fill byte, n, size int) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		entries := make([]types.PutRecordsRequestEntry, min(500, n-i))
		for j := range entries {
			entries[j] = types.PutRecordsRequestEntry{Data: bytes.Repeat([]byte{fill}, size), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(hashKey)}
		}
		if out, err := c.sdk.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries}); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %v", err)
		}
	}
}

// stalledGetRecords sends GetRecords for iterator over a raw HTTP/1.1
// connection with a small receive buffer, which keeps most of a large page
// in the server's hands, and reads the first kilobyte of the answer. The
// caller reads the rest (or not) from br; the connection closes with the
// test.
func stalledGetRecords(t *testing.T, e *testEnv, iterator string) (net.Conn, *bufio.Reader, *http.Request) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
	}}
	conn, err := d.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", strings.NewReader(fmt.Sprintf(`{"ShardIterator":%q}`, iterator)))
	req.Header.Set("X-Amz-Target", targetPrefix+"GetRecords")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	shapeAuth(req)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(conn, 1024)
	if _, err := br.Peek(1024); err != nil {
		t.Fatal(err)
	}
	return conn, br, req
}
