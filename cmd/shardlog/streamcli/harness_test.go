package streamcli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"

	"github.com/shardlog/shardlog/cmd/shardlog/streamcli"
	"github.com/shardlog/shardlog/server/kinesistest"
)

// TestMain keeps the developer's AWS configuration out of the tests: no
// profile, no credentials or endpoint from the environment, no shared
// files. Tests that need them set them with t.Setenv.
func TestMain(m *testing.M) {
	if os.Getenv(serverProcessEnv) == "1" {
		serveProcess()
		return
	}
	for _, k := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

// result is what one command run printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// run runs `shardlog args...` with the commands of streamcli under a root
// command, as the shardlog binary does, with stdin as standard input.
func run(ctx context.Context, stdin io.Reader, args ...string) result {
	root := newRoot()
	var out, errOut bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	root.SetIn(stdin)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return result{stdout: out.String(), stderr: errOut.String(), err: err}
}

// mustRun is run that fails the test when the command fails.
func mustRun(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	r := run(t.Context(), stdin, args...)
	if r.err != nil {
		t.Fatalf("shardlog %s: %v\nstderr:\n%s", strings.Join(args, " "), r.err, r.stderr)
	}
	return r
}

// record is one line of tail --format json.
type record struct {
	ShardID        string `json:"shardId"`
	SequenceNumber string `json:"sequenceNumber"`
	PartitionKey   string `json:"partitionKey"`
	ArrivalTime    string `json:"arrivalTime"`
	DataEncoding   string `json:"dataEncoding"`
	Data           string `json:"data"`
}

// parseJSONLines parses tail --format json output.
func parseJSONLines(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var r record
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d %q: %v", i+1, l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// seqLess compares two sequence numbers (decimal strings of any length).
func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

// midpoint returns the hash key halfway through shard id's range.
func midpoint(t *testing.T, client *kinesis.Client, stream, id string) string {
	t.Helper()
	out, err := client.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range out.Shards {
		if aws.ToString(sh.ShardId) == id {
			lo, _ := new(big.Int).SetString(*sh.HashKeyRange.StartingHashKey, 10)
			hi, _ := new(big.Int).SetString(*sh.HashKeyRange.EndingHashKey, 10)
			return new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()
		}
	}
	t.Fatalf("no shard %s in %s", id, stream)
	return ""
}

// newRoot returns a root command with streamcli's commands, as run uses.
func newRoot() *cobra.Command {
	root := &cobra.Command{Use: "shardlog", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(streamcli.Commands()...)
	root.SetIn(strings.NewReader(""))
	root.SetErr(io.Discard)
	return root
}

// pipeReader reads a command's output line by line as it is written.
type pipeReader struct{ r *bufio.Reader }

// newPipe returns the two ends of a pipe; the writer is closed at the end
// of the test.
func newPipe(t *testing.T) (*pipeReader, *io.PipeWriter) {
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close(); r.Close() })
	return &pipeReader{r: bufio.NewReader(r)}, w
}

// readLine returns the next line without its "\n", failing the test after
// 10 s.
func (p *pipeReader) readLine(t *testing.T) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	c := make(chan res, 1)
	go func() {
		s, err := p.r.ReadString('\n')
		c <- res{strings.TrimSuffix(s, "\n"), err}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.s
	case <-time.After(10 * time.Second):
		t.Fatal("no line within 10 s")
		return ""
	}
}

// serverProcessEnv makes the test binary a shardlog server (serveProcess)
// instead of running tests.
const serverProcessEnv = "STREAMCLI_TEST_SERVER_PROCESS"

// serveProcess serves a kinesistest server, prints its endpoint on a line
// and serves until standard input closes.
func serveProcess() {
	srv, err := kinesistest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(srv.Endpoint)
	io.Copy(io.Discard, os.Stdin)
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// startServerProcess runs a shardlog server in another process (this test
// binary, re-executed) and returns its endpoint; the process stops at the
// end of the test. Timing between client and server then is as with a
// daemon.
func startServerProcess(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverProcessEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("server process: %v", err)
		}
	})
	endpoint, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	return strings.TrimSpace(endpoint)
}
