package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file holds the helpers of the durability and hostile-input tests
// (crash_test.go, corrupt_test.go, diskfull_test.go, hostile_test.go,
// shutdown_test.go): a daemon started with a config file, SIGKILL, and a
// raw JSON client that never retries, so that a duplicate found in the data
// is the daemon's doing and not a client retry.

// longRun reports whether SHARDLOG_LONG=1 asks for the long versions.
func longRun() bool { return os.Getenv("SHARDLOG_LONG") == "1" }

// startDaemonConfig starts shardlog on data directory dir with the YAML
// config cfg (written to a temporary file; listen and data_dir come from
// flags), waits until it serves, and stops it with SIGTERM at the end of the
// test unless the test killed or stopped it already.
func startDaemonConfig(t *testing.T, dir, cfg string) *daemon {
	t.Helper()
	d, ok := launchDaemon(t, launch{bin: shardlogBinary(t), dir: dir, cfg: cfg})
	if !ok {
		t.Fatalf("shardlog exited before serving: %v", <-d.exited)
	}
	return d
}

// launch says how to start a daemon: which binary, on which data
// directory with which config, with what added to the environment, and a
// shell line run before it (e.g. "ulimit -n 256").
type launch struct {
	bin, dir, cfg string
	env           []string
	shell         string
}

// launchDaemon starts a daemon as l says and waits until it serves. It
// returns ok=false when the daemon exited before serving (its exit status
// is then in d.exited). A daemon still running at the end of the test is
// stopped with SIGTERM.
func launchDaemon(t *testing.T, l launch) (d *daemon, ok bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	// 0600: the daemon refuses a world-readable file that holds auth keys.
	if err := os.WriteFile(path, []byte(l.cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Free ports for the API and the admin listener (sigv4 would bind the
	// admin default 127.0.0.1:4568, which parallel daemons share).
	args := []string{l.bin, "serve", "--config", path, "--listen", "127.0.0.1:0", "--admin.listen=127.0.0.1:0", "--data-dir", l.dir}
	if l.shell != "" {
		args = append([]string{"sh", "-c", l.shell + ` && exec "$@"`, "sh"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), l.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d = &daemon{cmd: cmd, exited: make(chan error, 1), messages: make(chan string, 1024)}
	started := make(chan startLine, 1)
	go func() {
		d.readLog(t, stderr, started)
		d.exited <- cmd.Wait()
	}()
	select {
	case d.Started = <-started:
		d.Endpoint = "http://" + d.Started.Listen
	case err := <-d.exited:
		d.exited <- err
		d.stopped = true
		return d, false
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("shardlog did not log its start within 60s")
	}
	t.Cleanup(func() { d.stop(t) })
	return d, true
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	if d.stopped {
		return
	}
	d.stopped = true
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill shardlog: %v", err)
	}
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("shardlog did not die within 20s of SIGKILL")
	}
}

// alive reports whether the process has not exited.
func (d *daemon) alive() bool {
	select {
	case err := <-d.exited:
		d.exited <- err // keep it for stop
		return false
	default:
		return true
	}
}

// apiClient speaks the Kinesis JSON 1.1 protocol over plain HTTP/1.1
// without retries.
type apiClient struct {
	endpoint string
	hc       *http.Client
}

func newAPIClient(endpoint string) *apiClient {
	return &apiClient{endpoint: endpoint, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}}
}

// apiError is the body of a Kinesis error answer.
type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// raw sends body to operation op and returns the status and response body.
// err is a transport error (the daemon is gone or hung up).
func (c *apiClient) raw(op string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	}
	amzDate, auth := dummyAuth()
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("Authorization", auth)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// call sends in as JSON to op and decodes a 200 answer into out (which may
// be nil). A non-200 answer is returned as *httpError.
func (c *apiClient) call(op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	status, resp, err := c.raw(op, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		e := &httpError{Status: status, Body: string(resp)}
		_ = json.Unmarshal(resp, &e.apiError)
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp, out)
}

// httpError is a non-200 answer.
type httpError struct {
	Status int
	Body   string
	apiError
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// mustCall is call that fails the test on any error.
func (c *apiClient) mustCall(t *testing.T, op string, in, out any) {
	t.Helper()
	if err := c.call(op, in, out); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// healthy checks that the daemon answers a ListStreams.
func (c *apiClient) healthy(t *testing.T, after string) {
	t.Helper()
	if err := c.call("ListStreams", map[string]any{}, nil); err != nil {
		t.Fatalf("daemon unhealthy after %s: %v", after, err)
	}
}

// Wire shapes used by the tests.
type (
	putEntry struct {
		Data            []byte
		PartitionKey    string
		ExplicitHashKey string `json:",omitempty"`
	}
	putResult struct {
		SequenceNumber string
		ShardId        string
		ErrorCode      string
	}
	putRecordsOut struct {
		FailedRecordCount int
		Records           []putResult
	}
	getRecord struct {
		Data           []byte
		PartitionKey   string
		SequenceNumber string
	}
	getRecordsOut struct {
		Records            []getRecord
		NextShardIterator  string
		MillisBehindLatest int64
	}
)

// createStream creates a stream of n shards and waits until it is ACTIVE.
func (c *apiClient) createStream(t *testing.T, name string, n int) {
	t.Helper()
	c.mustCall(t, "CreateStream", map[string]any{"StreamName": name, "ShardCount": n}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct{ StreamDescriptionSummary struct{ StreamStatus string } }
		c.mustCall(t, "DescribeStreamSummary", map[string]any{"StreamName": name}, &out)
		if out.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not ACTIVE after 10s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shardIDs lists the shards of a stream.
func (c *apiClient) shardIDs(t *testing.T, stream string) []string {
	t.Helper()
	var out struct{ Shards []struct{ ShardId string } }
	c.mustCall(t, "ListShards", map[string]any{"StreamName": stream}, &out)
	ids := make([]string, len(out.Shards))
	for i, s := range out.Shards {
		ids[i] = s.ShardId
	}
	return ids
}

// iterator returns a shard iterator of the given type.
func (c *apiClient) iterator(t *testing.T, stream, shardID, typ, seq string) string {
	t.Helper()
	in := map[string]any{"StreamName": stream, "ShardId": shardID, "ShardIteratorType": typ}
	if seq != "" {
		in["StartingSequenceNumber"] = seq
	}
	var out struct{ ShardIterator string }
	c.mustCall(t, "GetShardIterator", in, &out)
	return out.ShardIterator
}

// readAll reads a shard from TRIM_HORIZON to its tip.
func (c *apiClient) readAll(t *testing.T, stream, shardID string) []getRecord {
	t.Helper()
	it := c.iterator(t, stream, shardID, "TRIM_HORIZON", "")
	var all []getRecord
	for it != "" {
		var out getRecordsOut
		c.mustCall(t, "GetRecords", map[string]any{"ShardIterator": it, "Limit": 10000}, &out)
		all = append(all, out.Records...)
		if len(out.Records) == 0 && out.MillisBehindLatest == 0 {
			break
		}
		it = out.NextShardIterator
	}
	return all
}

// dummyAuth returns an X-Amz-Date value and a SigV4 Authorization header
// of the right shape for it, with a signature of zeros: what auth mode none
// requires of every API request (server/sigv4/authform.go), as AWS does. It signs
// content-type, host, x-amz-date and x-amz-target, so a request may carry
// no other x-amz-* header.
func dummyAuth() (amzDate, authorization string) {
	now := time.Now().UTC()
	return now.Format("20060102T150405Z"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + now.Format("20060102") +
		"/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64)
}

// rawHead is the start of a hand-written JSON 1.1 request for op, through
// its Authorization header (dummyAuth); the caller adds Content-Length,
// the blank line and the body.
func rawHead(op string) string {
	amzDate, auth := dummyAuth()
	return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202." + op +
		"\r\nX-Amz-Date: " + amzDate + "\r\nAuthorization: " + auth + "\r\n"
}

// dialRaw opens a TCP connection to the daemon.
func dialRaw(t *testing.T, endpoint string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
