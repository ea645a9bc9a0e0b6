package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the files `shardlog cert` writes in its --out directory.
const (
	certFileName = "cert.pem"
	keyFileName  = "key.pem"
)

// certLifetime is how long a certificate from `shardlog cert` is valid.
const certLifetime = 365 * 24 * time.Hour

// tlsConfig loads the certificate and key named by the tls section, or
// returns nil when TLS is off (both keys empty; validate refuses one
// without the other). Errors name the keys.
func (c *config) tlsConfig() (*tls.Config, error) {
	if c.TLS.CertFile == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("keys tls.cert_file and tls.key_file: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}}, nil
}

// runCert is `shardlog cert`: it writes a self-signed ECDSA P-256
// certificate valid for a year, and its key, for local TLS.
func runCert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardlog cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "`directory` to write "+certFileName+" and "+keyFileName+" to (created when missing)")
	hosts := fs.String("host", "127.0.0.1,localhost", "comma-separated IP addresses and DNS `names` the certificate is valid for")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: shardlog cert --out DIR [--host 127.0.0.1,localhost]")
		return 2
	}
	certPath, keyPath, err := writeCert(*out, strings.Split(*hosts, ","), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "shardlog: cert: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and %s; serve with:\n  tls:\n    cert_file: %s\n    key_file: %s\n", certPath, keyPath, certPath, keyPath)
	return 0
}

// writeCert generates the pair for hosts, valid from now, and writes it to
// dir without overwriting existing files; the key file is readable by its
// owner only. It returns the two paths.
func writeCert(dir string, hosts []string, now time.Time) (certPath, keyPath string, err error) {
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{Organization: []string{"shardlog"}, CommonName: "shardlog self-signed"},
		NotBefore: now.Add(-time.Hour), // tolerate a client clock slightly behind
		NotAfter:  now.Add(certLifetime),
		// A CA as well as a server certificate, so that clients can trust
		// it directly as a root (RootCAs, NODE_EXTRA_CA_CERTS).
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		switch h = strings.TrimSpace(h); {
		case h == "":
		case net.ParseIP(h) != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(h))
		default:
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(tmpl.IPAddresses)+len(tmpl.DNSNames) == 0 {
		return "", "", errors.New("--host names no address or name")
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("marshal key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, certFileName), filepath.Join(dir, keyFileName)
	if err := writeNew(keyPath, 0o600, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}); err != nil {
		return "", "", err
	}
	if err := writeNew(certPath, 0o644, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
		return "", "", errors.Join(err, os.Remove(keyPath))
	}
	return certPath, keyPath, nil
}

// writeNew writes b PEM-encoded to a new file at path; it refuses to
// replace an existing one.
func writeNew(path string, perm os.FileMode, b *pem.Block) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, b); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), f.Close())
	}
	return f.Close()
}
