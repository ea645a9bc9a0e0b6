package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLISmoke walks the README's AWS CLI commands against a real daemon:
// create-stream, describe-stream-summary, put-record, get-shard-iterator and
// get-records, and checks the record comes back byte for byte.
func TestAWSCLISmoke(t *testing.T) {
	aws, err := exec.LookPath("aws")
	requireClient(t, err == nil, "the AWS CLI (aws)", "apt-get install awscli")
	out, err := exec.Command(aws, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, out)
	}
	t.Logf("using %s: %s", aws, bytes.TrimSpace(out))
	// CLI v2 reads blob arguments as base64 unless told otherwise; v1 takes
	// them raw and does not know the option.
	var blobArgs []string
	if strings.HasPrefix(string(out), "aws-cli/2.") {
		blobArgs = []string{"--cli-binary-format", "raw-in-base64-out"}
	}

	d := startDaemon(t)
	kinesis := func(v any, args ...string) {
		t.Helper()
		args = append([]string{"kinesis", "--endpoint-url", d.Endpoint, "--output", "json"}, args...)
		cmd := exec.Command(aws, args...)
		cmd.Env = clientEnv(d.Endpoint)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		if v != nil {
			if err := json.Unmarshal(out, v); err != nil {
				t.Fatalf("aws %s: output %q: %v", args[3], out, err)
			}
		}
	}

	kinesis(nil, "create-stream", "--stream-name", "cli-smoke", "--shard-count", "1")
	var summary struct {
		StreamDescriptionSummary struct {
			StreamName     string
			StreamARN      string
			StreamStatus   string
			OpenShardCount int
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		kinesis(&summary, "describe-stream-summary", "--stream-name", "cli-smoke")
		if summary.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not ACTIVE after 10s: %+v", summary)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := summary.StreamDescriptionSummary
	if s.StreamName != "cli-smoke" || s.OpenShardCount != 1 ||
		s.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/cli-smoke" {
		t.Fatalf("describe-stream-summary: %+v", s)
	}

	const data = "hello from the AWS CLI"
	var put struct{ ShardId, SequenceNumber string }
	kinesis(&put, append([]string{"put-record", "--stream-name", "cli-smoke",
		"--partition-key", "pk-1", "--data", data}, blobArgs...)...)
	if put.ShardId != "shardId-000000000000" || put.SequenceNumber == "" {
		t.Fatalf("put-record: %+v", put)
	}

	var it struct{ ShardIterator string }
	kinesis(&it, "get-shard-iterator", "--stream-name", "cli-smoke",
		"--shard-id", put.ShardId, "--shard-iterator-type", "TRIM_HORIZON")
	var got struct {
		Records []struct {
			SequenceNumber string
			PartitionKey   string
			Data           string
		}
		NextShardIterator string
	}
	kinesis(&got, "get-records", "--shard-iterator", it.ShardIterator)
	if len(got.Records) != 1 || got.NextShardIterator == "" {
		t.Fatalf("get-records: %+v", got)
	}
	r := got.Records[0]
	raw, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || string(raw) != data || r.SequenceNumber != put.SequenceNumber || r.PartitionKey != "pk-1" {
		t.Fatalf("get-records returned %+v (data %q, err %v), want %q at %s", r, raw, err, data, put.SequenceNumber)
	}
}

// python3WithBoto3 returns a Python interpreter that can import boto3: the
// one on PATH, else Debian's /usr/bin/python3 (where apt-get installs
// python3-boto3 when PATH leads to another Python first).
func python3WithBoto3() (string, bool) {
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if exec.Command(p, "-c", "import boto3").Run() == nil {
			return p, true
		}
	}
	return "", false
}

// TestBoto3Smoke runs the README's boto3 producer/consumer
// (testdata/boto3_smoke.py) against a real daemon.
func TestBoto3Smoke(t *testing.T) {
	python, ok := python3WithBoto3()
	requireClient(t, ok, "Python 3 with boto3", "apt-get install python3-boto3")
	d := startDaemon(t)
	runClient(t, d, python, "testdata/boto3_smoke.py")
}

// TestJavaScriptSDKSmoke runs testdata/js/smoke.mjs with the AWS SDK for
// JavaScript v3 against a real daemon: once with the client's default
// request handler (NodeHttp2Handler for Kinesis in the pinned version, so
// HTTP/2 without TLS), once with NodeHttp2Handler given explicitly, and once
// with the HTTP/1.1 NodeHttpHandler.
func TestJavaScriptSDKSmoke(t *testing.T) {
	node, err := exec.LookPath("node")
	requireClient(t, err == nil, "Node.js (node)", "install Node.js 20 or later")
	_, err = os.Stat("testdata/js/node_modules/@aws-sdk/client-kinesis")
	requireClient(t, err == nil, "@aws-sdk/client-kinesis", "run `npm ci` in cmd/shardlog/testdata/js")
	d := startDaemon(t)
	for _, handler := range []string{"default", "http2", "http1"} {
		t.Run(handler, func(t *testing.T) {
			runClient(t, d, node, filepath.Join("testdata", "js", "smoke.mjs"), handler)
		})
	}
}

// runClient runs an external client program against d and fails the test
// with its output if it exits non-zero. Clients print one line per step.
func runClient(t *testing.T, d *daemon, prog string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = clientEnv(d.Endpoint)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: killed after 2m\n%s", prog, strings.Join(args, " "), out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", filepath.Base(prog), strings.Join(args, " "), out)
}
