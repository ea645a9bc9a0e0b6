package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Server is a server process a bench run started. Stop it when done: Stop
// ends its whole process group.
type Server struct {
	Label    string // "shardlog", "kinesalite", "kinesis-local"
	Endpoint string // http://127.0.0.1:PORT
	PID      int
	Command  string // how it was started, for RESULTS.md
	cmd      *exec.Cmd
	tmp      string // removed by Stop
	exited   chan struct{}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartShardlog starts bin ("serve") on a free port and a temporary data
// directory, and waits until it answers.
func StartShardlog(ctx context.Context, bin string) (*Server, error) {
	tmp, err := os.MkdirTemp("", "shardlog-bench-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "--listen", addr, "--data-dir", filepath.Join(tmp, "data")}
	return start(ctx, "shardlog", tmp, port, nil, "", bin, args...)
}

// StartKinesalite starts kinesalite from an npm prefix dir (holding
// node_modules/kinesalite) on a free port, with no artificial delays.
func StartKinesalite(ctx context.Context, dir string) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(dir, "node_modules", "kinesalite", "cli.js")
	return start(ctx, "kinesalite", "", port, nil, "", "node", cli, "--port", strconv.Itoa(port),
		"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "1000")
}

// StartKinesisLocal starts kinesis-local (kinesis-mock's Node build) from
// an npm prefix dir on a free plain-HTTP port (and another free TLS port).
func StartKinesisLocal(ctx context.Context, dir string) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	tlsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	pkg := filepath.Join(dir, "node_modules", "kinesis-local")
	env := []string{
		"KINESIS_MOCK_CERT_PATH=" + filepath.Join(pkg, "server.json"),
		"KINESIS_MOCK_PLAIN_PORT=" + strconv.Itoa(port),
		"KINESIS_MOCK_TLS_PORT=" + strconv.Itoa(tlsPort),
		"CREATE_STREAM_DURATION=0ms", "DELETE_STREAM_DURATION=0ms",
		"SHARD_LIMIT=1000", "LOG_LEVEL=ERROR",
	}
	return start(ctx, "kinesis-local", "", port, env, pkg, "node", filepath.Join(pkg, "main.js"))
}

// start runs name with args in its own process group, its output in a log
// file, and waits until the port answers a ListStreams.
func start(ctx context.Context, label, tmp string, port int, env []string, dir, name string, args ...string) (*Server, error) {
	if tmp == "" {
		var err error
		if tmp, err = os.MkdirTemp("", label+"-bench-"); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(tmp, label+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("bench: start %s: %w", label, err)
	}
	logf.Close()
	s := &Server{
		Label: label, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), PID: cmd.Process.Pid,
		Command: commandLine(env, name, args), cmd: cmd, tmp: tmp, exited: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	c := newClient("127.0.0.1:"+strconv.Itoa(port), false, false, 1, nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := c.call("ListStreams", map[string]any{}, nil)
		var ae *APIError
		if err == nil || errors.As(err, &ae) {
			return s, nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(tmp, label+".log"))
			s.Stop()
			return nil, fmt.Errorf("bench: %s exited before answering: %s", label, tail(log, 2000))
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("bench: %s did not answer on port %d within 60s: %w", label, port, err)
		}
	}
}

// Stop ends the server's process group (SIGTERM, then SIGKILL after 10 s)
// and removes its temporary directory.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	_ = syscall.Kill(-s.PID, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.PID, syscall.SIGKILL)
		<-s.exited
	}
	_ = syscall.Kill(-s.PID, syscall.SIGKILL) // stragglers of the group, if any
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

func commandLine(env []string, name string, args []string) string {
	s := ""
	for _, e := range env {
		s += e + " "
	}
	s += name
	for _, a := range args {
		s += " " + a
	}
	return s
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
