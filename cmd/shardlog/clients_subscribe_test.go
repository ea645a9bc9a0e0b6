package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestJavaScriptSDKSubscribe runs testdata/js/subscribe.mjs, enhanced
// fan-out through the AWS SDK for JavaScript v3 with its default
// NodeHttp2Handler, over h2c and over TLS with ALPN h2 (the certificate from
// `shardlog cert` trusted through NODE_EXTRA_CA_CERTS).
func TestJavaScriptSDKSubscribe(t *testing.T) {
	node, err := exec.LookPath("node")
	requireClient(t, err == nil, "Node.js (node)", "install Node.js 20 or later")
	_, err = os.Stat("testdata/js/node_modules/@aws-sdk/client-kinesis")
	requireClient(t, err == nil, "@aws-sdk/client-kinesis", "run `npm ci` in cmd/shardlog/testdata/js")
	script := filepath.Join("testdata", "js", "subscribe.mjs")
	t.Run("h2c", func(t *testing.T) {
		runClient(t, startDaemon(t), node, script)
	})
	t.Run("tls-h2", func(t *testing.T) {
		d, certPath := startTLSDaemon(t)
		t.Setenv("NODE_EXTRA_CA_CERTS", certPath)
		runClient(t, d, node, script)
	})
}
