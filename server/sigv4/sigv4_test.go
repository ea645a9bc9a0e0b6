package sigv4

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSeparatorIsIndexAny checks separator against the strings.IndexAny
// it replaces, on fixed cases and on random strings over a small alphabet
// heavy in separators.
func TestSeparatorIsIndexAny(t *testing.T) {
	cases := []string{"", ",", " ", "a", "a,b", "a b", "a ,b", "a, b", ",,  ,", "abc", "Credential=x/y, Signature=z"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = "ab, ="[rng.IntN(5)]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := separator(s), strings.IndexAny(s, ", "); got != want {
			t.Fatalf("separator(%q) = %d, want %d", s, got, want)
		}
	}
}
