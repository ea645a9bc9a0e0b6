package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// authConfigYAML is a sigv4 configuration: the test clients' key
// (clientEnv) may do anything; AKIDAPP has the seed's five actions on
// stream "app".
const authConfigYAML = `auth:
  mode: sigv4
  keys:
    - access_key_id: AKIDSHARDLOGTEST
      secret_access_key: shardlog-test-secret
      user: admin
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}'
    - access_key_id: AKIDAPP
      secret_access_key: app-secret
      user: app
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/app"}]}'
`

// TestBoto3SigV4 runs testdata/boto3_auth.py against a sigv4-mode daemon:
// botocore's signer passes, policies allow and deny, bad keys are refused.
func TestBoto3SigV4(t *testing.T) {
	python, ok := python3WithBoto3()
	requireClient(t, ok, "Python 3 with boto3", "apt-get install python3-boto3")
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	runClient(t, d, python, "testdata/boto3_auth.py")
}

// TestAWSCLISigV4 signs with the AWS CLI against a sigv4-mode daemon: the
// right key lists streams, a wrong secret gets InvalidSignatureException,
// and the app key gets AccessDeniedException for ListStreams.
func TestAWSCLISigV4(t *testing.T) {
	aws, err := exec.LookPath("aws")
	requireClient(t, err == nil, "the AWS CLI (aws)", "apt-get install awscli")
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	run := func(key, secret string) (string, error) {
		cmd := exec.Command(aws, "kinesis", "--endpoint-url", d.Endpoint, "--output", "json", "list-streams")
		cmd.Env = clientEnv(d.Endpoint)
		if key != "" {
			cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := run("", ""); err != nil || !strings.Contains(out, "StreamNames") {
		t.Fatalf("list-streams with the right key: %v\n%s", err, out)
	}
	if out, err := run("AKIDSHARDLOGTEST", "wrong"); err == nil || !strings.Contains(out, "InvalidSignatureException") {
		t.Fatalf("list-streams with a wrong secret: %v\n%s", err, out)
	}
	if out, err := run("AKIDAPP", "app-secret"); err == nil || !strings.Contains(out, "AccessDeniedException") ||
		!strings.Contains(out, "arn:aws:iam::000000000000:user/app is not authorized to perform: kinesis:ListStreams on resource: *") {
		t.Fatalf("list-streams with the app key: %v\n%s", err, out)
	}
}

// TestConfigAuth: the auth section's errors name the key, a world-readable
// file with keys is refused, and secrets never print.
func TestConfigAuth(t *testing.T) {
	dir := t.TempDir()
	write := func(body string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadConfig(write(authConfigYAML, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.write(&out)
	if strings.Contains(out.String(), "app-secret") {
		t.Fatalf("config check prints a secret:\n%s", out.String())
	}
	if _, err := loadConfig(write(authConfigYAML, 0o644)); err == nil || !strings.Contains(err.Error(), "readable by every user") {
		t.Fatalf("world-readable file with keys: %v", err)
	}
	f := func(body, want string) {
		t.Helper()
		if _, err := loadConfig(write(body, 0o600)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error with %q", err, want)
		}
	}
	f("auth:\n  mode: iam\n", "key auth.mode")
	f("auth:\n  mode: sigv4\n", "key auth.keys")
	f("auth:\n  keys:\n    - access_key_id: A\n      secret: x\n", "unknown key auth.keys[0].secret")
	f("auth:\n  keys:\n    - access_key_id: A\n      secret_access_key: x\n", "set exactly one of policy and policy_file")
	f("auth:\n  keys:\n    - access_key_id: A\n      secret_access_key: x\n      policy: '{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}'\n", "key auth.keys[0].policy: policy statement 1: has neither Resource")
	f("auth:\n  keys:\n    - access_key_id: A\n      secret_access_key: x\n      policy_file: /nonexistent.json\n", "key auth.keys[0].policy_file")
	f("auth:\n  keys:\n    - access_key_id: A\n      secret_access_key: x\n      policy: '{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceVpc\":\"vpc-1\"}}}}'\n",
		`key auth.keys[0].policy: policy statement 1: Condition IpAddress: unknown condition key "aws:SourceVpc"`)
}

func TestConfigCheckHidesSecrets(t *testing.T) {
	path := writeConfig(t, "auth:\n  mode: sigv4\n  keys:\n    - access_key_id: AKIDCHECK\n      secret_access_key: very-secret\n"+
		"      policy: '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kinesis:*\",\"Resource\":\"*\"}]}'\n")
	private := func(path string) string {
		t.Helper()
		if err := os.Chmod(path, 0o600); err != nil { // files holding keys must not be world-readable
			t.Fatal(err)
		}
		return path
	}
	code, out, errOut := runCmd("config", "check", private(path))
	if code != 0 {
		t.Fatalf("config check: exit %d %s", code, errOut)
	}
	if strings.Contains(out, "very-secret") || !strings.Contains(out, `access_key_id: "AKIDCHECK", secret_access_key: REDACTED`) {
		t.Fatalf("config check shows the keys as:\n%s", out)
	}
	got, err := loadConfig(private(writeConfig(t, out))) // the printed file loads back
	if err != nil || len(got.Auth.Keys) != 1 || got.Auth.Keys[0].AccessKeyID != "AKIDCHECK" {
		t.Fatalf("config check output does not load back: %v %+v", err, got.Auth)
	}
}

// TestJavaScriptSDKSigV4 runs the JavaScript SDK smoke client against a
// sigv4-mode daemon over each of its request handlers. Over HTTP/2 the SDK
// signs the :authority pseudo-header instead of host (its
// hostHeaderMiddleware), which AWS accepts ("'Host' or ':authority' must be
// a 'SignedHeader'").
func TestJavaScriptSDKSigV4(t *testing.T) {
	node, err := exec.LookPath("node")
	requireClient(t, err == nil, "Node.js (node)", "install Node.js 20 or later")
	_, err = os.Stat("testdata/js/node_modules/@aws-sdk/client-kinesis")
	requireClient(t, err == nil, "@aws-sdk/client-kinesis", "run `npm ci` in cmd/shardlog/testdata/js")
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), authConfigYAML)
	for _, handler := range []string{"http2", "http1"} {
		t.Run(handler, func(t *testing.T) {
			runClient(t, d, node, filepath.Join("testdata", "js", "smoke.mjs"), handler)
		})
	}
}
