package main

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConnectionFloodPastOpenFilesLimit runs the daemon with `ulimit -n
// 256` and opens 600 connections to it at once, more than it has file
// descriptors for. It must not exit: it backs off, counts the failed
// accepts in /metrics, and once the flood is closed it serves normally
// again within 10 s.
func TestConnectionFloodPastOpenFilesLimit(t *testing.T) {
	d, ok := launchDaemon(t, launch{bin: shardlogBinary(t), dir: t.TempDir(), shell: "ulimit -n 256"})
	if !ok {
		t.Fatalf("shardlog exited before serving: %v", <-d.exited)
	}
	c := newAPIClient(d.Endpoint)
	c.createStream(t, "flood", 2)
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
	c.hc.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.call("PutRecords", map[string]any{"StreamName": "flood", "Records": []putEntry{{Data: []byte("x"), PartitionKey: "k"}}}, nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving 10 s after the flood: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(d.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^shardlog_accept_errors_total (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatal("/metrics has no shardlog_accept_errors_total")
	}
	n, _ := strconv.Atoi(string(m[1]))
	if n == 0 {
		t.Fatalf("%d connections held open against 256 file descriptors, but no accept failed", len(flood))
	}
	t.Logf("%d connections opened against ulimit -n 256: %d accepts failed and were retried; serving again", len(flood), n)
}
