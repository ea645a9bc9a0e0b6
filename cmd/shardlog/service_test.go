package main

import (
	"bufio"
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
	"sync"
	"syscall"
	"testing"
	"time"
)

// serviceDaemon is shardlog started as the systemd unit's ExecStart starts
// it: `shardlog serve --config FILE`, with NOTIFY_SOCKET pointing at a
// datagram socket the test reads.
type serviceDaemon struct {
	cmd    *exec.Cmd
	addr   string
	notes  chan string // sd_notify datagrams, in order
	mu     sync.Mutex
	log    bytes.Buffer
	exited chan error
}

// startService starts shardlog with config text cfg (listen on a free
// port chosen here) and extra environment; it does not wait for readiness.
func startService(t *testing.T, cfg string, env ...string) *serviceDaemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg = fmt.Sprintf("listen: %s\ndata_dir: %s\n%s", addr, filepath.Join(dir, "data"), cfg)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	d := &serviceDaemon{addr: addr, notes: make(chan string, 64), exited: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			d.notes <- string(buf[:n])
		}
	}()
	d.cmd = exec.Command(shardlogBinary(t), "serve", "--config", path)
	d.cmd.Env = append(os.Environ(), append(env, "NOTIFY_SOCKET="+sock)...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			t.Log("shardlog: " + sc.Text())
		}
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
		}
		conn.Close()
	})
	return d
}

// waitNote waits for a datagram containing want and returns it.
func (d *serviceDaemon) waitNote(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-d.notes:
			if strings.Contains(n, want) {
				return n
			}
		case err := <-d.exited:
			t.Fatalf("shardlog exited waiting for %q: %v", want, err)
		case <-deadline:
			t.Fatalf("no %q on the notify socket within 30s", want)
		}
	}
}

// waitLog waits for a log line containing want.
func (d *serviceDaemon) waitLog(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		d.mu.Lock()
		ok := strings.Contains(d.log.String(), want)
		d.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatalf("no log line with %q within 20s", want)
}

func httpStatus(addr, path string) (int, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestServiceReadyAfterRecovery starts shardlog as ExecStart would, with a
// recovery held open by the test hook: during it the port answers /healthz
// 200 and /readyz 503 and nothing has said READY=1; then READY=1 arrives on
// the notify socket and /readyz is 200.
func TestServiceReadyAfterRecovery(t *testing.T) {
	d := startService(t, "", "SHARDLOG_TEST_RECOVERY_PAUSE=1500ms")
	d.waitNote(t, "STATUS=recovering")
	var readyz, healthz int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if readyz, err = httpStatus(d.addr, "/readyz"); err == nil {
			healthz, _ = httpStatus(d.addr, "/healthz")
			break
		}
	}
	if readyz != http.StatusServiceUnavailable || healthz != http.StatusOK {
		t.Fatalf("during recovery: /readyz %d (want 503), /healthz %d (want 200)", readyz, healthz)
	}
	select {
	case n := <-d.notes:
		t.Fatalf("notify before recovery ended: %q", n)
	default:
	}
	d.waitNote(t, "READY=1")
	if s, err := httpStatus(d.addr, "/readyz"); err != nil || s != http.StatusOK {
		t.Fatalf("after READY=1: /readyz %d %v", s, err)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitNote(t, "STOPPING=1")
}

// TestServiceMetricsAndSIGHUP drives records through the real daemon,
// scrapes /metrics, then turns the throughput emulator and the debug log
// level on with SIGHUP and sees both take effect.
func TestServiceMetricsAndSIGHUP(t *testing.T) {
	d := startService(t, "log:\n  level: info\n")
	d.waitNote(t, "READY=1")
	c := newAPIClient("http://" + d.addr)
	c.createStream(t, "svc", 1)
	recs := make([]map[string]any, 500)
	for i := range recs {
		recs[i] = map[string]any{"PartitionKey": "k", "Data": "QUJD"}
	}
	putBatch := func() (ok, throttled int) {
		var out struct {
			Records []struct{ ErrorCode string }
		}
		c.mustCall(t, "PutRecords", map[string]any{"StreamName": "svc", "Records": recs}, &out)
		for _, r := range out.Records {
			switch r.ErrorCode {
			case "":
				ok++
			case "ProvisionedThroughputExceededException":
				throttled++
			default:
				t.Fatalf("record error %s", r.ErrorCode)
			}
		}
		return
	}
	for i := 0; i < 6; i++ {
		if _, th := putBatch(); th != 0 {
			t.Fatal("throttled with the emulator off")
		}
	}
	m := scrapeBinary(t, d.addr)
	if v := m[`kinesis_IncomingRecords{stream="svc"}`]; v != 3000 {
		t.Errorf("kinesis_IncomingRecords = %v, want 3000", v)
	}
	if m["shardlog_open_shards"] != 1 || m["shardlog_streams"] != 1 {
		t.Errorf("shardlog_open_shards %v, shardlog_streams %v", m["shardlog_open_shards"], m["shardlog_streams"])
	}
	if _, ok := m["shardlog_recovery_seconds"]; !ok {
		t.Error("no shardlog_recovery_seconds")
	}

	// Rewrite the file (keeping listen and data_dir) and send SIGHUP.
	path := d.cmd.Args[len(d.cmd.Args)-1]
	old, _ := os.ReadFile(path)
	next := strings.Replace(string(old), "level: info", "level: debug", 1) +
		"emulator:\n  throughput: true\n  write_records_per_second: 100\nstreams:\n  create_delay: 1s\n"
	if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitNote(t, "RELOADING=1")
	d.waitLog(t, "SIGHUP: configuration reloaded")
	d.waitLog(t, `"need_restart":["streams.create_delay"]`)
	total := 0
	for i := 0; i < 3; i++ {
		_, th := putBatch()
		total += th
	}
	if total < 1000 {
		t.Errorf("after SIGHUP: %d of 1500 records throttled at 100 records/s, want most", total)
	}
	d.waitLog(t, `"level":"debug"`) // access lines appear at debug

	// A bad file changes nothing and says so.
	os.WriteFile(path, []byte(string(old)+"emulator:\n  error_probability: 2\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "configuration refused")
}

// scrapeBinary GETs /metrics and parses the samples.
func scrapeBinary(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestConfigEnvFlagsAndCheck(t *testing.T) {
	path := writeConfig(t, "storage:\n  fsync: always\nemulator:\n  throughput: true\n")
	t.Setenv("SHARDLOG_STORAGE_FSYNC", "never")
	t.Setenv("SHARDLOG_LIMITS_SHARD_LIMIT", "42")
	cfg, err := parseServe([]string{"--config", path, "--emulator.error-probability=0.25", "--log.level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Fsync != "never" || cfg.Limits.ShardLimit != 42 || !cfg.Emulator.Throughput ||
		cfg.Emulator.ErrorProbability != 0.25 || cfg.Log.Level != "debug" {
		t.Fatalf("layers not applied: %+v", cfg)
	}
	// Flags beat the environment.
	if cfg, err = parseServe([]string{"--config", path, "--storage.fsync=interval"}); err != nil || cfg.Storage.Fsync != "interval" {
		t.Fatalf("flag over env: %v %q", err, cfg.Storage.Fsync)
	}
	t.Setenv("SHARDLOG_STORAGE_FSYNC", "sometimes")
	if _, err := parseServe([]string{"--config", path}); err == nil || !strings.Contains(err.Error(), "storage.fsync") {
		t.Fatalf("bad env value: %v", err)
	}
	t.Setenv("SHARDLOG_STORAGE_FSYNC", "never")

	code, out, errOut := runCmd("config", "check", path)
	if code != 0 {
		t.Fatalf("config check: exit %d %s", code, errOut)
	}
	for _, want := range []string{"  fsync: never\n", "  shard_limit: 42\n", "  throughput: true\n", "iterator_ttl: 5m0s\n", `account_id: "000000000000"`} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
	// The printed configuration is itself a valid file with the same values.
	again := writeConfig(t, out)
	os.Unsetenv("SHARDLOG_STORAGE_FSYNC")
	os.Unsetenv("SHARDLOG_LIMITS_SHARD_LIMIT")
	got, err := loadConfig(again)
	if err != nil {
		t.Fatalf("config check output does not load: %v", err)
	}
	if got.Storage.Fsync != "never" || got.Limits.ShardLimit != 42 {
		t.Errorf("round trip: %+v", got)
	}
	bad := writeConfig(t, "emulator:\n  error_probability: 3\n")
	if code, _, errOut := runCmd("config", "check", bad); code != 1 || !strings.Contains(errOut, "emulator.error_probability") {
		t.Errorf("config check of a bad file: exit %d %s", code, errOut)
	}
	_ = json.Valid
}
