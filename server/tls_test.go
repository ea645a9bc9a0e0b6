package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// testCert returns a self-signed ECDSA P-256 certificate for 127.0.0.1 and
// a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shardlog test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// newTLSEnv is newEnv with TLS on, and clients for HTTP/1.1 and HTTP/2
// over TLS (chosen by ALPN) in place of the cleartext ones.
func newTLSEnv(t *testing.T, opts ...func(*Options)) *testEnv {
	t.Helper()
	cert, pool := testCert(t)
	e := newEnv(t, append(opts, func(o *Options) {
		o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	})...)
	for _, c := range e.clients {
		c.http.CloseIdleConnections()
	}
	h1 := &http.Client{Transport: &protoCheck{t: t, major: 1, rt: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}},
		// A non-nil, empty TLSNextProto turns HTTP/2 off.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}}
	h2 := &http.Client{Transport: &protoCheck{t: t, major: 2, rt: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}}
	sdk := func(hc *http.Client) *kinesis.Client {
		return kinesis.New(kinesis.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			BaseEndpoint: aws.String("https://" + e.addr),
			HTTPClient:   sdkhttp.DetachBodies(hc),
			Retryer:      aws.NopRetryer{},
		})
	}
	e.clients = []testClient{
		{name: "tls-http1", sdk: sdk(h1), http: h1},
		{name: "tls-h2", sdk: sdk(h2), http: h2},
	}
	return e
}

// TestTLSPutGetSubscribe puts and gets records and receives them through a
// subscription over TLS, once with ALPN settling on HTTP/1.1 and once on
// h2, with the Go SDK.
func TestTLSPutGetSubscribe(t *testing.T) {
	e := newTLSEnv(t, fastSubscriptions)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "tls-" + c.name
		st := e.createStream(name, 1)
		consumer := registerConsumer(t, c.sdk, st.ARN(), "c")
		es := subscribe(t, c.sdk, consumer, "shardId-000000000000",
			types.StartingPosition{Type: types.ShardIteratorTypeLatest})
		const n = 20
		var seqs []string
		for i := range n {
			out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: aws.String(name), PartitionKey: aws.String("pk"), Data: fmt.Appendf(nil, "r%d", i),
			})
			if err != nil {
				t.Fatalf("PutRecord: %v", err)
			}
			seqs = append(seqs, aws.ToString(out.SequenceNumber))
		}
		pushed, _ := collect(t, es, n)
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator: %v", err)
		}
		got, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		if len(got.Records) != n {
			t.Fatalf("GetRecords: %d records, want %d", len(got.Records), n)
		}
		for i := range n {
			want := fmt.Sprintf("r%d", i)
			for _, r := range []types.Record{pushed[i], got.Records[i]} {
				if aws.ToString(r.SequenceNumber) != seqs[i] || string(r.Data) != want {
					t.Fatalf("record %d: %s %q, want %s %q", i, aws.ToString(r.SequenceNumber), r.Data, seqs[i], want)
				}
			}
		}
	})
}

// TestTLSRefusesCleartext checks that with TLS on, a cleartext HTTP/1.1
// request and an h2c connection get no answer from the API.
func TestTLSRefusesCleartext(t *testing.T) {
	e := newTLSEnv(t)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	for name, rt := range map[string]*http.Transport{
		"http1": {},
		"h2c":   {Protocols: protocols},
	} {
		resp, err := (&http.Client{Transport: rt, Timeout: 5 * time.Second}).Post("http://"+e.addr+"/", "application/x-amz-json-1.1", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("%s: cleartext request answered 200", name)
			}
		}
		rt.CloseIdleConnections()
	}
}

func TestStandbyAnswersOverTLS(t *testing.T) {
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sb := NewStandby(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	defer sb.Close()
	// An HTTP/2-capable client, as the SDKs are: the standby offers only
	// http/1.1, and a recovering daemon answers with a retryable 503.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := hc.Get("https://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatalf("GET %s over TLS during recovery: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
