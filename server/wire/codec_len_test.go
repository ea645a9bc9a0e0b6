package wire

import (
	"math/rand/v2"
	"testing"
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
