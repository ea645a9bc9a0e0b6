package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM while a request is half-sent: the
// daemon stops accepting, lets that request finish with 200, exits 0, and
// the record it acknowledged is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			d := startDaemonConfig(t, dir, "storage:\n  fsync: never\n")
			c := newAPIClient(d.Endpoint)
			c.createStream(t, "bye", 1)

			body := fmt.Sprintf(`{"StreamName":"bye","PartitionKey":"k","Data":"%s"}`, base64.StdEncoding.EncodeToString([]byte("in flight")))
			conn := dialRaw(t, d.Endpoint)
			fmt.Fprintf(conn, rawHead("PutRecord")+"Content-Length: %d\r\n\r\n%s", len(body), body[:10])
			time.Sleep(100 * time.Millisecond) // the request is being read

			began := time.Now()
			d.stopped = true
			if err := d.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if nc, err := net.DialTimeout("tcp", strings.TrimPrefix(d.Endpoint, "http://"), time.Second); err == nil {
				nc.Close()
				t.Error("the daemon still accepts connections after the signal")
			}
			if _, err := io.WriteString(conn, body[10:]); err != nil {
				t.Fatal(err)
			}
			resp := readResponse(t, conn, 10*time.Second)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(resp.body), "SequenceNumber") {
				t.Fatalf("in-flight request: HTTP %d %s", resp.StatusCode, resp.body)
			}
			select {
			case err := <-d.exited:
				if err != nil {
					t.Fatalf("exit after %s: %v, want status 0", sig, err)
				}
			case <-time.After(20 * time.Second):
				d.cmd.Process.Kill()
				t.Fatalf("no exit within 20s of %s", sig)
			}
			t.Logf("%s: in-flight request answered 200, exit 0 after %v", sig, time.Since(began).Round(time.Millisecond))

			d = startDaemonConfig(t, dir, "")
			recs := newAPIClient(d.Endpoint).readAll(t, "bye", "shardId-000000000000")
			if len(recs) != 1 || string(recs[0].Data) != "in flight" {
				t.Fatalf("after restart: %v, want the in-flight record", recs)
			}
		})
	}
}

// TestSecondSignalExitsAtOnce holds a request open so that the graceful
// shutdown cannot finish, and checks that a second signal makes the daemon
// exit at once with status 1.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), "")
	conn := dialRaw(t, d.Endpoint)
	io.WriteString(conn, rawHead("ListStreams")+"Content-Length: 100\r\n\r\n{")
	time.Sleep(100 * time.Millisecond)
	d.stopped = true
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-d.exited:
		t.Fatalf("exited (%v) while a request was still in flight", err)
	default:
	}
	began := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exit after the second signal: %v, want status 1", err)
		}
		t.Logf("second signal: exit 1 after %v", time.Since(began).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		d.cmd.Process.Kill()
		t.Fatal("no exit within 3s of the second signal")
	}
}
