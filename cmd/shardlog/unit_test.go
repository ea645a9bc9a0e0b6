package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unitFile is the systemd unit make install installs.
const unitFile = "shardlog.service"

// unitExecStart returns the unit's ExecStart words.
func unitExecStart(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("no ExecStart= in " + unitFile)
	return nil
}

// TestUnitVerifies runs systemd-analyze verify on the unit, with ExecStart
// pointing at the binary the tests built (verify checks it is executable).
// CI installs systemd; elsewhere the test skips when the tool is missing.
func TestUnitVerifies(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		requireClient(t, false, "systemd-analyze", "apt-get install systemd")
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/shardlog", shardlogBinary(t))
	path := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, want := range []string{"Type=notify", "WatchdogSec=", "LimitNOFILE=", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/shardlog", "ExecReload="} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %s", want)
		}
	}
}

// TestUnitExecStartNotifiesReady runs the unit's ExecStart line, with its
// paths moved into a temporary directory, under a NOTIFY_SOCKET and a
// WATCHDOG_USEC as systemd would set them, and waits for READY=1 and a
// watchdog ping.
func TestUnitExecStartNotifiesReady(t *testing.T) {
	words := unitExecStart(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("listen: "+addr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("/usr/local/bin/shardlog", shardlogBinary(t),
		"/etc/shardlog/config.yaml", cfg, "/var/lib/shardlog", filepath.Join(dir, "data"))
	for i := range words {
		words[i] = repl.Replace(words[i])
	}
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("no exit within 20s of SIGTERM")
		}
	}()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var got []string
	ready, watchdog := false, false
	buf := make([]byte, 4096)
	for !ready || !watchdog {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("notify socket: %v (got %q)", err, got)
		}
		msg := string(buf[:n])
		got = append(got, msg)
		ready = ready || strings.Contains(msg, "READY=1")
		watchdog = watchdog || ready && strings.Contains(msg, "WATCHDOG=1")
	}
	if s, err := httpStatus(addr, "/readyz"); err != nil || s != 200 {
		t.Fatalf("/readyz after READY=1: %d %v", s, err)
	}
	t.Log(fmt.Sprintf("notifications: %q", got))
}
