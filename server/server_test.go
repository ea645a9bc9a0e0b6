package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/server/wire"
)

// echoInput and echoOutput make a test-only operation that exercises the
// framework without depending on any real operation.
type echoInput struct {
	StreamName *string
	Limit      *int
	Data       []byte
}

type echoOutput struct {
	StreamName *string
	Data       []byte
}

// withEcho makes s serve TestEcho besides the operations of the table.
func withEcho(s *Server) {
	s.ops[targetPrefix+"TestEcho"] = ops.NewOperation(ops.Spec{Name: "TestEcho", Action: "kinesis:TestEcho", Call: ops.Handler(func(_ *ops.Service, in *echoInput) (*echoOutput, error) {
		var v wire.Validator
		v.IntRange("limit", in.Limit, 1, 10)
		v.StreamName("streamName", in.StreamName)
		if err := v.Err(); err != nil {
			return nil, err
		}
		return &echoOutput{StreamName: in.StreamName, Data: in.Data}, nil
	})})
}

func TestEcho(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		r := c.call(t, e.addr, "TestEcho", `{"StreamName":"a","Data":"AAEC","Unknown":true}`)
		if r.status != 200 || r.body["StreamName"] != "a" || r.body["Data"] != "AAEC" {
			t.Errorf("got %d %v", r.status, r.body)
		}
		r = c.call(t, e.addr, "TestEcho", `{"StreamName":"a b","Limit":11}`)
		want := "2 validation errors detected: Value '11' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10; " +
			"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
		if r.status != 400 || r.body["__type"] != wire.Validation || r.body["message"] != want {
			t.Errorf("got %d %v", r.status, r.body)
		}
	})
}

func TestFrontEnd(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		f := func(method, target, ctype, body string, status int, typ string) {
			t.Helper()
			r := c.post(t, e.addr, method, target, ctype, []byte(body))
			if r.status != status || r.body["__type"] != typ {
				t.Errorf("%s %q %q %q: got %d %v, want %d %s", method, target, ctype, body, r.status, r.body, status, typ)
			}
			if r.contentType != "application/x-amz-json-1.1" {
				t.Errorf("content type %q", r.contentType)
			}
		}
		const json11 = "application/x-amz-json-1.1"
		f(http.MethodGet, "", "", "", 403, wire.AccessDenied)
		f(http.MethodPost, "", "text/plain", "{}", 403, wire.AccessDenied)
		f(http.MethodPost, "Kinesis_20131202.ListStreams", "text/plain", "{}", 404, wire.UnknownOperation)
		f(http.MethodPost, "Kinesis_20131202.NoSuchOp", json11, "{}", 400, wire.UnknownOperation)
		f(http.MethodPost, "", json11, "{}", 400, wire.UnknownOperation)
		f(http.MethodPost, "Kinesis_20131202.NoSuchOp", json11, "{", 400, wire.Serialization)
		f(http.MethodPost, "Kinesis_20131202.TestEcho", json11, "", 400, wire.Serialization)
		f(http.MethodPost, "Kinesis_20131202.TestEcho", json11, "{", 400, wire.Serialization)
		f(http.MethodPost, "Kinesis_20131202.TestEcho", json11, `{"StreamName": 1}`, 400, wire.Serialization)
		f(http.MethodPost, "Kinesis_20131202.TestEcho", json11, `{"Limit": "x"}`, 400, wire.Serialization)
		f(http.MethodPost, "Kinesis_20131202.TestEcho", json11, `{"StreamName": "x", "Limit": 0}`, 400, wire.Validation)
	})
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 1000 })
	e.each(t, func(t *testing.T, c testClient) {
		body := `{"StreamName":"` + strings.Repeat("a", 2000) + `"}`
		r := c.call(t, e.addr, "TestEcho", body)
		if r.status != http.StatusRequestEntityTooLarge || r.body["__type"] != wire.Validation {
			t.Errorf("got %d %v", r.status, r.body)
		}
	})
}
