package wire

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestEncodedLengths checks the length functions, which announce a
// streamed body's Content-Length before it is encoded, against the
// encoders themselves.
func TestEncodedLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ms := []int64{0, 1, 9, 10, 99, 100, 101, 110, 999, 1000, 1001, 1010, 1100, 9999, 10000, 1733500000000, 1733500000120, 1733500000007, -1, -1000, -1500, -1733500000123}
	for i := 0; i < 10000; i++ {
		ms = append(ms, rng.Int64N(1<<42), -rng.Int64N(1<<42))
	}
	for _, m := range ms {
		if got, want := EpochMsLen(m), len(AppendEpochMs(nil, m)); got != want {
			t.Fatalf("EpochMsLen(%d) = %d, want %d (%s)", m, got, want, AppendEpochMs(nil, m))
		}
	}
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
		if got, want := JSONStringLen([]byte{byte(c)}), len(AppendJSONString(nil, []byte{byte(c)})); got != want {
			t.Fatalf("JSONStringLen(%q) = %d, want %d", byte(c), got, want)
		}
	}
	if got, want := JSONStringLen(all), len(AppendJSONString(nil, all)); got != want {
		t.Fatalf("JSONStringLen of every byte = %d, want %d", got, want)
	}
	for n := 0; n < 200; n++ {
		if got, want := Base64Len(n), len(AppendBase64(nil, make([]byte, n))); got != want {
			t.Fatalf("Base64Len(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestCBORAppendMatchesEncoder holds the hand-written CBOR to what
// CBOREncMode writes, at every boundary of the head's sizes, and the
// length functions to the appenders.
func TestCBORAppendMatchesEncoder(t *testing.T) {
	check := func(what string, got []byte, v any, n int) {
		t.Helper()
		want, err := CBOREncMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: % x, the encoder writes % x", what, got[:min(len(got), 12)], want[:min(len(want), 12)])
		}
		if n != len(got) {
			t.Fatalf("%s: length function says %d, appended %d", what, n, len(got))
		}
	}
	for _, l := range []int{0, 1, 23, 24, 255, 256, 65535, 65536, 70000} {
		b := bytes.Repeat([]byte{'x'}, l)
		check(fmt.Sprintf("text of %d", l), AppendCBORText(nil, b), string(b), CBORTextLen(l))
		check(fmt.Sprintf("blob of %d", l), AppendCBORBlob(nil, b), b, CBORBlobLen(b))
	}
	check("nil blob", AppendCBORBlob(nil, nil), []byte(nil), CBORBlobLen(nil))
	ints := []int64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1733500000123, math.MaxInt64}
	for _, v := range ints {
		for _, v := range []int64{v, -v, -v - 1} {
			check(fmt.Sprintf("int %d", v), AppendCBORInt(nil, v), v, CBORIntLen(v))
			check(fmt.Sprintf("time %d", v), AppendCBOREpochMs(nil, v), EpochTime{Time: time.UnixMilli(v)}, CBOREpochMsLen(v))
		}
	}
}
