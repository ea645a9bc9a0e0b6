package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestTLSCertificateReloadOnSIGHUP replaces a TLS daemon's certificate and
// key files and sends SIGHUP: a keep-alive connection opened before keeps
// working on the old certificate, and new connections get the new one. A
// pair that cannot be used (a key of another certificate, garbage, a
// missing file, an expired certificate) is logged and the previous pair
// stays.
func TestTLSCertificateReloadOnSIGHUP(t *testing.T) {
	certPath, keyPath := mustCert(t)
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("tls:\n  cert_file: %s\n  key_file: %s\n", certPath, keyPath))
	url := "https://" + d.Started.Listen + "/healthz"
	first := readCert(t, certPath)

	// A keep-alive HTTP/1.1 connection, opened before the reload.
	kept := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: poolOf(first)}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	defer kept.CloseIdleConnections()
	if got, reused := get(t, kept, url); got != fingerprint(first) || reused {
		t.Fatalf("first connection: certificate %s (reused %v), want %s", got, reused, fingerprint(first))
	}

	// A new pair replaces the files (renamed over them, as tools deploy).
	second := replacePair(t, certPath, keyPath, time.Now())
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("shardlog cert wrote the same serial twice")
	}
	hup(t, d)
	d.waitMessage(t, "SIGHUP: TLS certificate reloaded")
	if got, reused := get(t, kept, url); !reused || got != fingerprint(first) {
		t.Fatalf("after SIGHUP the kept connection: certificate %s, reused %v; want the first certificate on the same connection", got, reused)
	}
	fresh := func() string {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: poolOf(second)}, DisableKeepAlives: true}
		got, _ := get(t, tr, url)
		return got
	}
	if got := fresh(); got != fingerprint(second) {
		t.Fatalf("new connection after SIGHUP: certificate %s, want the second %s", got, fingerprint(second))
	}
	t.Logf("serial %s replaced by %s without dropping the open connection", first.SerialNumber.Text(16), second.SerialNumber.Text(16))

	// Bad pairs change nothing.
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T)
	}{
		{"key of another certificate", func(t *testing.T) {
			dir := t.TempDir()
			_, otherKey, err := writeCert(dir, []string{"127.0.0.1"}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			mustRename(t, otherKey, keyPath)
		}},
		{"garbage certificate", func(t *testing.T) { mustWrite(t, certPath, []byte("not PEM\n")) }},
		{"missing key", func(t *testing.T) { mustRemove(t, keyPath) }},
		{"expired certificate", func(t *testing.T) { replacePair(t, certPath, keyPath, time.Now().Add(-2*certLifetime)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spoil(t)
			hup(t, d)
			d.waitMessage(t, "SIGHUP: TLS certificate not reloaded")
			if got := fresh(); got != fingerprint(second) {
				t.Fatalf("after a refused reload: certificate %s, want the second %s", got, fingerprint(second))
			}
			if got, reused := get(t, kept, url); !reused || got != fingerprint(first) {
				t.Fatalf("the kept connection: certificate %s, reused %v", got, reused)
			}
		})
	}
	if !d.alive() {
		t.Fatal("the daemon exited")
	}
}

// get GETs url through tr and returns the SHA-256 fingerprint of the
// server's certificate and whether the connection was reused.
func get(t *testing.T, tr *http.Transport, url string) (fp string, reused bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused },
	}))
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET %s: status %d, tls %v", url, resp.StatusCode, resp.TLS != nil)
	}
	return fingerprint(resp.TLS.PeerCertificates[0]), reused
}

// replacePair writes a new pair valid from now and renames it over
// certPath and keyPath; it returns the new certificate.
func replacePair(t *testing.T, certPath, keyPath string, now time.Time) *x509.Certificate {
	t.Helper()
	c, k, err := writeCert(t.TempDir(), []string{"127.0.0.1", "localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	mustRename(t, k, keyPath)
	mustRename(t, c, certPath)
	return readCert(t, certPath)
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(path, filepath.Join(filepath.Dir(path), keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:8])
}

func hup(t *testing.T, d *daemon) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
