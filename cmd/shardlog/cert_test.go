package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// mustCert runs `shardlog cert` into a temporary directory and returns the
// certificate and key paths.
func mustCert(t *testing.T, args ...string) (certPath, keyPath string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"cert", "--out", dir}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("shardlog cert: exit %d\n%s", code, stderr.Bytes())
	}
	return filepath.Join(dir, certFileName), filepath.Join(dir, keyFileName)
}

func TestCertCommand(t *testing.T) {
	certPath, keyPath := mustCert(t, "--host", "127.0.0.1, localhost,::1")
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Fatalf("the pair does not load: %v", err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	if life := cert.NotAfter.Sub(time.Now()); life < 364*24*time.Hour || life > 366*24*time.Hour {
		t.Errorf("valid until %v, want a year from now", cert.NotAfter)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
		t.Error("valid for example.com, a host not asked for")
	}

	// A second run into the same directory keeps the existing pair.
	var stderr bytes.Buffer
	if code := run([]string{"cert", "--out", filepath.Dir(certPath)}, new(bytes.Buffer), &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "exists") {
		t.Fatalf("second shardlog cert: exit %d, %q; want 1 and an error that the file exists", code, stderr.String())
	}
	if code := run([]string{"cert"}, new(bytes.Buffer), new(bytes.Buffer)); code != 2 {
		t.Fatalf("shardlog cert without --out: exit %d, want 2", code)
	}
}

func TestConfigTLSKeys(t *testing.T) {
	f := func(yaml, wantErr string) {
		t.Helper()
		c := defaultConfig()
		err := c.overlay([]byte(yaml))
		if err == nil {
			err = c.validate()
		}
		if err == nil {
			_, _, err = c.tlsConfig()
		}
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Fatalf("%q: error %v, want %q", yaml, err, wantErr)
		}
	}
	certPath, keyPath := mustCert(t)
	f("tls:\n  cert_file: "+certPath+"\n  key_file: "+keyPath+"\n", "")
	f("tls:\n  cert_file: "+certPath+"\n", "key tls.cert_file")
	f("tls:\n  key_file: "+keyPath+"\n", "key tls.cert_file")
	f("tls:\n  cert_file: "+keyPath+"\n  key_file: "+certPath+"\n", "keys tls.cert_file and tls.key_file")
	f("tls:\n  certfile: x\n", "unknown key tls.certfile")
}

// startTLSDaemon starts shardlog with a certificate from `shardlog cert`
// and returns it, with its endpoint set to https, and the certificate path.
func startTLSDaemon(t *testing.T) (*daemon, string) {
	t.Helper()
	certPath, keyPath := mustCert(t)
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("tls:\n  cert_file: %s\n  key_file: %s\n", certPath, keyPath))
	if !d.Started.TLS {
		t.Fatalf("start line does not say tls: %+v", d.Started)
	}
	d.Endpoint = "https://" + d.Started.Listen
	return d, certPath
}

// TestTLSDaemonGoSDK drives a daemon serving TLS with the Go SDK, with ALPN
// settling on HTTP/1.1 and on h2: PutRecord and GetRecords on both, and a
// SubscribeToShard over h2.
func TestTLSDaemonGoSDK(t *testing.T) {
	d, certPath := startTLSDaemon(t)
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in " + certPath)
	}
	transports := map[string]*http.Transport{
		"http1": {
			TLSClientConfig: &tls.Config{RootCAs: pool},
			TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/2 off
		},
		"h2": {TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
	}
	for _, name := range []string{"http1", "h2"} {
		t.Run(name, func(t *testing.T) {
			tr := transports[name]
			defer tr.CloseIdleConnections()
			var proto string
			client := kinesis.New(kinesis.Options{
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDSHARDLOGTEST", "shardlog-test-secret", ""),
				BaseEndpoint: aws.String(d.Endpoint),
				HTTPClient: sdkhttp.DetachBodies(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					resp, err := tr.RoundTrip(r)
					if err == nil {
						proto = resp.Proto
					}
					return resp, err
				})}),
				Retryer: aws.NopRetryer{},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stream := "tls-" + name
			if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatalf("CreateStream: %v", err)
			}
			if want := map[string]string{"http1": "HTTP/1.1", "h2": "HTTP/2.0"}[name]; proto != want {
				t.Fatalf("protocol %s, want %s", proto, want)
			}
			var es *kinesis.SubscribeToShardEventStream
			if name == "h2" {
				sum, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
				if err != nil {
					t.Fatalf("DescribeStreamSummary: %v", err)
				}
				reg, err := client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
					StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("app"),
				})
				if err != nil {
					t.Fatalf("RegisterStreamConsumer: %v", err)
				}
				sub, err := client.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
					ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
					StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest},
				})
				if err != nil {
					t.Fatalf("SubscribeToShard: %v", err)
				}
				es = sub.GetStream()
				defer es.Close()
			}
			const n = 10
			var seqs []string
			for i := range n {
				out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{
					StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: fmt.Appendf(nil, "r%d", i),
				})
				if err != nil {
					t.Fatalf("PutRecord: %v", err)
				}
				seqs = append(seqs, aws.ToString(out.SequenceNumber))
			}
			it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
				StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"),
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				t.Fatalf("GetShardIterator: %v", err)
			}
			got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			checkRecords(t, "GetRecords", got.Records, seqs)
			if es == nil {
				return
			}
			var pushed []types.Record
			for len(pushed) < n {
				select {
				case ev, ok := <-es.Events():
					if !ok {
						t.Fatalf("subscription ended after %d records: %v", len(pushed), es.Err())
					}
					if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
						pushed = append(pushed, e.Value.Records...)
					}
				case <-ctx.Done():
					t.Fatalf("%d of %d records pushed", len(pushed), n)
				}
			}
			checkRecords(t, "SubscribeToShard", pushed, seqs)
		})
	}
}

// checkRecords checks that recs are the records r0, r1, … at seqs.
func checkRecords(t *testing.T, op string, recs []types.Record, seqs []string) {
	t.Helper()
	if len(recs) != len(seqs) {
		t.Fatalf("%s: %d records, want %d", op, len(recs), len(seqs))
	}
	for i, r := range recs {
		if aws.ToString(r.SequenceNumber) != seqs[i] || string(r.Data) != fmt.Sprintf("r%d", i) {
			t.Fatalf("%s: record %d is %s %q, want %s %q", op, i, aws.ToString(r.SequenceNumber), r.Data, seqs[i], fmt.Sprintf("r%d", i))
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
