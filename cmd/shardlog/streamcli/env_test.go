package streamcli_test

import (
	"strings"
	"testing"

	"github.com/shardlog/shardlog/server/kinesistest"
)

// TestEndpointFromEnvironment runs a command without --endpoint: the
// endpoint comes from AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL.
func TestEndpointFromEnvironment(t *testing.T) {
	kin := kinesistest.New(t, kinesistest.WithStreams("from-kinesis-var"))
	all := kinesistest.New(t, kinesistest.WithStreams("from-generic-var"))

	t.Setenv("AWS_ENDPOINT_URL", all.Endpoint)
	if r := mustRun(t, nil, "streams", "list"); !strings.Contains(r.stdout, "from-generic-var") {
		t.Errorf("with AWS_ENDPOINT_URL: %q", r.stdout)
	}
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", kin.Endpoint)
	if r := mustRun(t, nil, "streams", "list"); !strings.Contains(r.stdout, "from-kinesis-var") {
		t.Errorf("with AWS_ENDPOINT_URL_KINESIS too: %q", r.stdout)
	}
	if r := mustRun(t, nil, "streams", "list", "--endpoint", all.Endpoint); !strings.Contains(r.stdout, "from-generic-var") {
		t.Errorf("--endpoint over the environment: %q", r.stdout)
	}
}

// TestCredentials checks where credentials come from: the AWS chain (here
// the environment) when it has them, dummy ones for a loopback endpoint
// when it has none, and an error for any other endpoint.
func TestCredentials(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithAuth(kinesistest.Key{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"}),
		kinesistest.WithStreams("signed"))

	// No credentials anywhere: the dummy ones are sent, and this server
	// does not know them.
	r := run(t.Context(), nil, "streams", "list", "--endpoint", srv.Endpoint)
	if r.err == nil || !strings.Contains(r.err.Error(), "UnrecognizedClientException") {
		t.Errorf("no credentials, loopback: err = %v, want the server to refuse the dummy key", r.err)
	}

	// They are shardlog/shardlog: a server that knows that key accepts them.
	dummy := kinesistest.New(t, kinesistest.WithAuth(kinesistest.Key{AccessKeyID: "shardlog", SecretAccessKey: "shardlog"}),
		kinesistest.WithStreams("dummy"))
	if r := mustRun(t, nil, "streams", "list", "--endpoint", dummy.Endpoint); !strings.Contains(r.stdout, "dummy") {
		t.Errorf("dummy credentials: %q", r.stdout)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	if r := mustRun(t, nil, "streams", "list", "--endpoint", srv.Endpoint); !strings.Contains(r.stdout, "signed") {
		t.Errorf("credentials from the environment: %q", r.stdout)
	}
	// --region goes into the signature; this server only knows us-east-1.
	if r := run(t.Context(), nil, "streams", "list", "--endpoint", srv.Endpoint, "--region", "eu-west-1"); r.err == nil {
		t.Error("--region eu-west-1 against a us-east-1 server: no error")
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	r = run(t.Context(), nil, "streams", "list", "--endpoint", "https://kinesis.example.invalid", "--region", "us-east-1")
	if r.err == nil || !strings.Contains(r.err.Error(), "no AWS credentials") {
		t.Errorf("no credentials, remote endpoint: err = %v", r.err)
	}
	r = run(t.Context(), nil, "streams", "list", "--endpoint", "https://kinesis.example.invalid")
	if r.err == nil || !strings.Contains(r.err.Error(), "no AWS region") {
		t.Errorf("no region, remote endpoint: err = %v", r.err)
	}
	r = run(t.Context(), nil, "streams", "list", "--endpoint", "127.0.0.1:4567")
	if r.err == nil || !strings.Contains(r.err.Error(), "want a URL") {
		t.Errorf("endpoint without a scheme: err = %v", r.err)
	}
}
