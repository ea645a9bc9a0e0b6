package shard

import (
	"math/big"
	"testing"
)

func TestSplitEvenlyMatchesAWS(t *testing.T) {
	// AWS's 3-shard stream: 0-113427455640312821154458202477256070484,
	// ...-226854911280625642308916404954512140969, ...-2^128-1.
	r := SplitEvenly(3)
	want := []string{
		"0", "113427455640312821154458202477256070484",
		"113427455640312821154458202477256070485", "226854911280625642308916404954512140969",
		"226854911280625642308916404954512140970", "340282366920938463463374607431768211455",
	}
	for i, rr := range r {
		if rr.Start.String() != want[2*i] || rr.End.String() != want[2*i+1] {
			t.Fatalf("range %d = %s-%s, want %s-%s", i, rr.Start, rr.End, want[2*i], want[2*i+1])
		}
	}
	for _, n := range []int{1, 2, 4, 7, 100} {
		rs := SplitEvenly(n)
		if rs[0].Start != (HashKey{}) || rs[n-1].End != MaxHashKey {
			t.Fatalf("n=%d does not cover the space", n)
		}
		for i := 1; i < n; i++ {
			if rs[i-1].End.Add1() != rs[i].Start {
				t.Fatalf("n=%d gap between %d and %d", n, i-1, i)
			}
		}
	}
}

func TestHashPartitionKey(t *testing.T) {
	// MD5("a") = 0cc175b9c0f1b6a831c399e269772661
	want, _ := new(big.Int).SetString("0cc175b9c0f1b6a831c399e269772661", 16)
	if got := HashPartitionKey([]byte("a")).String(); got != want.String() {
		t.Fatalf("hash(a) = %s, want %s", got, want)
	}
}

func TestParseHashKey(t *testing.T) {
	for _, s := range []string{"0", "1", "340282366920938463463374607431768211455", "007"} {
		k, err := ParseHashKey(s)
		if err != nil {
			t.Fatalf("ParseHashKey(%q): %v", s, err)
		}
		n, _ := new(big.Int).SetString(s, 10)
		if k.String() != n.String() {
			t.Fatalf("ParseHashKey(%q) = %s", s, k)
		}
	}
	for _, s := range []string{"", "-1", "1.5", "340282366920938463463374607431768211456", "x"} {
		if _, err := ParseHashKey(s); err == nil {
			t.Fatalf("ParseHashKey(%q) accepted", s)
		}
	}
}
