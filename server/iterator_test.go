package server

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func FuzzIteratorToken(f *testing.F) {
	p := newMACPool(deriveKey([]byte("0123456789abcdef"), "shardlog iterator v1"))
	foreign := newMACPool(deriveKey([]byte("fedcba9876543210"), "shardlog iterator v1"))
	f.Add("stream", "shardId-000000000000", int64(1700000000000), uint64(0), int64(1700000000123), "")
	f.Add("a.b_c-d", "shardId-000000000042", int64(0), ^uint64(0), int64(-1), "AAAA")
	f.Add("", "", int64(1), uint64(1), int64(1), "not base64!")
	f.Fuzz(func(t *testing.T, stream, shardID string, epoch int64, pos uint64, issued int64, junk string) {
		if len(stream) > 128 || len(shardID) > 128 {
			return
		}
		it := iterator{stream: stream, shardID: shardID, shardEpochMs: epoch, pos: pos, issuedMs: issued}
		tok := string(p.appendIterator(nil, it))
		if len(tok) > maxIteratorChars {
			t.Fatalf("token of %d chars exceeds the API limit", len(tok))
		}
		got, err := p.decodeIterator(tok)
		if err != nil || got != it {
			t.Fatalf("round trip: got %+v, %v; want %+v", got, err, it)
		}
		if _, err := foreign.decodeIterator(tok); err == nil {
			t.Fatal("a token signed under another key verified")
		}
		raw, _ := base64.StdEncoding.DecodeString(tok)
		for i := 0; i < len(raw); i += 1 + len(raw)/16 {
			tampered := bytes.Clone(raw)
			tampered[i] ^= 1
			if _, err := p.decodeIterator(base64.StdEncoding.EncodeToString(tampered)); err == nil {
				t.Fatalf("byte %d flipped still verifies", i)
			}
		}
		// Arbitrary input never panics and never verifies.
		if _, err := p.decodeIterator(junk); err == nil {
			t.Fatalf("junk %q verified", junk)
		}
	})
}
