package bench

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCallRetries: a control-plane call answered 503 (a daemon recovering
// its data directory) or throttled is resent until it succeeds, as the SDKs
// do; a client error is returned at once.
func TestCallRetries(t *testing.T) {
	var calls atomic.Int32
	answers := map[string][]int{"recovering": {503, 503, 200}, "throttled": {400, 200}, "refused": {400, 200}}
	types := map[string]string{"recovering": "ServiceUnavailable", "throttled": "LimitExceededException", "refused": "ValidationException"}
	for name, want := range map[string]int32{"recovering": 3, "throttled": 2, "refused": 1} {
		t.Run(name, func(t *testing.T) {
			calls.Store(0)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				status := answers[name][n-1]
				w.WriteHeader(status)
				if status != 200 {
					_, _ = w.Write([]byte(`{"__type":"` + types[name] + `","message":"m"}`))
					return
				}
				_, _ = w.Write([]byte(`{}`))
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			err = newClient(ln.Addr().String(), false, false, 1, nil).call("ListStreams", map[string]any{}, nil)
			if got := calls.Load(); got != want {
				t.Fatalf("%d calls, want %d", got, want)
			}
			var ae *APIError
			if name == "refused" != (errors.As(err, &ae) && ae.Type == "ValidationException") || (name != "refused" && err != nil) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestClientHTTP2: with h2 set, API calls travel over h2c (prior
// knowledge) with the target and signature headers intact, and the
// answer's status and body come back as over HTTP/1.1.
func TestClientHTTP2(t *testing.T) {
	var protos, targets []string
	var mu sync.Mutex
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		targets = append(targets, r.Header.Get("X-Amz-Target")+" "+strings.Fields(r.Header.Get("Authorization") + " none")[0])
		mu.Unlock()
		if r.Header.Get("X-Amz-Target") == "Kinesis_20131202.DescribeStream" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"m"}`))
			return
		}
		_, _ = w.Write([]byte(`{"StreamNames":["s"]}`))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c := newClient(ln.Addr().String(), false, true, 2, nil)
	var out struct{ StreamNames []string }
	if err := c.call("ListStreams", map[string]any{}, &out); err != nil || len(out.StreamNames) != 1 {
		t.Fatalf("ListStreams: %v, %+v", err, out)
	}
	var ae *APIError
	if err := c.call("DescribeStream", map[string]any{"StreamName": "x"}, nil); !errors.As(err, &ae) || ae.Type != "ResourceNotFoundException" {
		t.Fatalf("DescribeStream: %v, want ResourceNotFoundException", err)
	}
	want := []string{"Kinesis_20131202.ListStreams AWS4-HMAC-SHA256", "Kinesis_20131202.DescribeStream AWS4-HMAC-SHA256"}
	if !slices.Equal(protos, []string{"HTTP/2.0", "HTTP/2.0"}) || !slices.Equal(targets, want) {
		t.Fatalf("requests %v %v, want two HTTP/2.0 requests %v", protos, targets, want)
	}
}
