package bench

import (
	"errors"
	"net"
	"net/http"
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
			err = newClient(ln.Addr().String(), false, 1, nil).call("ListStreams", map[string]any{}, nil)
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
