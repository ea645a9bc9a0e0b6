package server

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestPanicInOneRequestIsAnInternalFailure runs an operation that panics
// through the server's request boundary: the request gets InternalFailure
// (500) with AWS's error body, the panic is counted in /metrics, and the
// server goes on serving real clients.
func TestPanicInOneRequestIsAnInternalFailure(t *testing.T) {
	e := newEnv(t)
	boom := ops.NewOperation(ops.Spec{Name: "Boom", Action: "kinesis:Boom", Call: func(*ops.Service, *ops.Operation, *sigv4.Credential, policy.Peer, wire.Codec, []byte, []byte) ([]byte, *wire.Stream, error) {
		var m map[string]int
		m["x"]++ // a nil map write: a bug, not a client error
		return nil, nil, nil
	}})
	x := exchange{method: http.MethodPost, body: []byte("{}")}
	out, _, err := e.srv.call(boom, nil, wire.JSON{}, &x)
	if err == nil {
		t.Fatal("a panicking operation returned no error")
	}
	e.srv.fail(&x, wire.JSON{}, e.srv.svc.ToAPIError("Boom", err))
	if x.status != http.StatusInternalServerError || !bytes.Contains(x.out, []byte(`"__type":"InternalFailure"`)) || len(out) != 0 {
		t.Fatalf("answer %d %s, want 500 InternalFailure", x.status, x.out)
	}
	var metrics bytes.Buffer
	e.srv.Metrics().WritePrometheus(&metrics)
	if !strings.Contains(metrics.String(), "shardlog_panics_total 1") {
		t.Fatalf("/metrics does not count the panic:\n%s", metrics.String())
	}
	for _, c := range e.clients {
		if _, err := c.sdk.ListStreams(context.Background(), &kinesis.ListStreamsInput{}); err != nil {
			t.Fatalf("%s: after a panic: %v", c.name, err)
		}
	}
}
