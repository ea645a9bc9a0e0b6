package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The smoke tests in this package build the real shardlog binary, start it
// on a free loopback port with a temporary data directory, and drive it with
// an external client. Each skips when its client is missing, except under
// CI=true, where .ci/run has installed every client and a missing one is a
// failure.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// TestMain removes the binary built for the smoke tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// shardlogBinary builds cmd/shardlog once per test process, with the race
// detector when the tests themselves run with it, and returns its path.
func shardlogBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "shardlog-smoke-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "shardlog")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// requireClient skips the test when a client is not installed, with a message
// saying how to install it, or fails it under CI=true.
func requireClient(t *testing.T, ok bool, what, install string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI=true requires it (%s)", what, install)
	}
	t.Skipf("%s is not installed; %s to run this smoke test", what, install)
}

// daemon is a shardlog process started by startDaemon.
type daemon struct {
	// Endpoint is the daemon's base URL, http://127.0.0.1:<port>.
	Endpoint string
	// Started is the daemon's start log line.
	Started startLine
	cmd     *exec.Cmd
	exited  chan error
	stopped bool
	// messages receives the message of every log line; lines are dropped
	// while it is full (tests that wait for one drain it).
	messages chan string
}

// waitMessage waits up to 20 s for a log line whose message starts with
// prefix, discarding the lines before it.
func (d *daemon) waitMessage(t *testing.T, prefix string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-d.messages:
			if strings.HasPrefix(m, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q within 20s", prefix)
		}
	}
}

// startLine is the fields of the log line the daemon writes once serving.
type startLine struct {
	Message string  `json:"message"`
	Listen  string  `json:"listen"`
	TLS     bool    `json:"tls"`
	Admin   string  `json:"admin"` // admin listener address, "" for none
	DataDir string  `json:"data_dir"`
	Streams int     `json:"streams"`
	Took    float64 `json:"took"` // milliseconds
}

// startDaemon starts shardlog on a free loopback port with a fresh data
// directory and waits until it logs that it is serving. The daemon is
// stopped with SIGTERM at the end of the test, which must make it exit 0.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	return startDaemonIn(t, filepath.Join(t.TempDir(), "data"))
}

// startDaemonIn is startDaemon on the data directory dir, with the built-in
// default configuration.
func startDaemonIn(t *testing.T, dir string) *daemon {
	t.Helper()
	return startDaemonConfig(t, dir, "")
}

// readLog forwards the daemon's log lines to the test log until the daemon
// exits, and sends the start line to started.
func (d *daemon) readLog(t *testing.T, r io.Reader, started chan<- startLine) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var entry startLine
		if json.Unmarshal([]byte(line), &entry) == nil {
			if entry.Message == "shardlog started" {
				select {
				case started <- entry:
				default:
				}
			}
			select {
			case d.messages <- entry.Message:
			default:
			}
		}
		t.Log("shardlog: " + line)
	}
}

// stop sends SIGTERM and checks that the daemon exits 0 within 20s. Only
// the first call does anything.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if d.stopped {
		return
	}
	d.stopped = true
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("signal shardlog: %v", err)
	}
	select {
	case err := <-d.exited:
		if err != nil {
			t.Errorf("shardlog did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		t.Error("shardlog did not exit within 20s of SIGTERM")
	}
}

// clientEnv is the environment for an AWS client pointed at a daemon: dummy
// credentials, region us-east-1, and no shared config or profile that could
// redirect it.
func clientEnv(endpoint string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=AKIDSHARDLOGTEST",
		"AWS_SECRET_ACCESS_KEY=shardlog-test-secret",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"SHARDLOG_ENDPOINT="+endpoint,
	)
}
