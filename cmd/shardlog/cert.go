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
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/shardlog/shardlog/server"
)

// Names of the files `shardlog cert` writes in its --out directory.
const (
	certFileName = "cert.pem"
	keyFileName  = "key.pem"
)

// certLifetime is how long a certificate from `shardlog cert` is valid.
const certLifetime = 365 * 24 * time.Hour

// tlsConfig loads the certificate and key named by the tls section, or
// returns nils when TLS is off (both keys empty; validate refuses one
// without the other). The configuration presents whatever the returned
// Certificate holds, so reloadCertificate can replace the pair live.
// Errors name the keys.
func (c *config) tlsConfig() (*tls.Config, *server.Certificate, error) {
	if c.TLS.CertFile == "" {
		return nil, nil, nil
	}
	pair, err := loadPair(c.TLS, time.Now())
	if err != nil {
		return nil, nil, err
	}
	certs := server.NewCertificate(pair)
	return certs.TLSConfig(), certs, nil
}

// loadPair reads and checks the PEM certificate and key of files: they
// must match, and the leaf must not have expired at now.
func loadPair(files tlsFiles, now time.Time) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		return pair, fmt.Errorf("keys tls.cert_file and tls.key_file: %w", err)
	}
	if pair.Leaf == nil { // filled by LoadX509KeyPair unless GODEBUG x509keypairleaf=0
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return pair, fmt.Errorf("key tls.cert_file: %w", err)
		}
	}
	if now.After(pair.Leaf.NotAfter) {
		return pair, fmt.Errorf("key tls.cert_file: %s expired at %s", files.CertFile, pair.Leaf.NotAfter.Format(time.RFC3339))
	}
	return pair, nil
}

// reloadCertificate rereads the pair named by files into certs (SIGHUP):
// new handshakes present it, open connections keep theirs. A pair that
// cannot be loaded, does not match or has expired is logged and the
// previous one stays.
func reloadCertificate(files tlsFiles, certs *server.Certificate, log zerolog.Logger) {
	pair, err := loadPair(files, time.Now())
	if err != nil {
		log.Error().Err(err).Msg("SIGHUP: TLS certificate not reloaded; still presenting the previous one")
		return
	}
	certs.Set(pair)
	log.Info().Str("path", files.CertFile).Str("serial", pair.Leaf.SerialNumber.Text(16)).
		Time("not_after", pair.Leaf.NotAfter).Msg("SIGHUP: TLS certificate reloaded")
}

func certCommand() *cobra.Command {
	var out, hosts string
	cmd := &cobra.Command{
		Use:   "cert --out DIR",
		Short: "Write a self-signed TLS certificate and key for local use",
		Long: `cert writes a self-signed ECDSA P-256 certificate, valid a year for the --host
names, and its key, as ` + certFileName + ` and ` + keyFileName + ` in DIR. Set tls.cert_file and
tls.key_file to them to serve HTTPS.`,
		Example: `  shardlog cert --out tls
  shardlog cert --out tls --host 127.0.0.1,localhost,kinesis.test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			certPath, keyPath, err := writeCert(out, strings.Split(hosts, ","), time.Now())
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("cert: %w", err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s; serve with:\n  tls:\n    cert_file: %s\n    key_file: %s\n", certPath, keyPath, certPath, keyPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write "+certFileName+" and "+keyFileName+" to (created when missing)")
	cmd.Flags().StringVar(&hosts, "host", "127.0.0.1,localhost", "comma-separated IP addresses and DNS names the certificate is valid for")
	_ = cmd.MarkFlagRequired("out")
	return cmd
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
