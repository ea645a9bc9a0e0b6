package sigv4

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
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

// FuzzParseAmzDate checks that parseAmzDate accepts what time.Parse
// accepts, refuses what it refuses, and gives the same time.
func FuzzParseAmzDate(f *testing.F) {
	for _, s := range []string{"20261207T044700Z", "20240229T235959Z", "20230229T000000Z", "20260431T000000Z",
		"20261207T244700Z", "20261207T046000Z", "20261207T044760Z", "00000101T000000Z", "2026120T044700ZZ",
		"+0261207T044700Z", "20261207t044700Z", "20261207T044700z", "2026-12-07T04:47:00Z", "", "20261307T000000Z", "20261200T000000Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseAmzDate(s)
		want, err := time.Parse(AmzDateLayout, s)
		if ok != (err == nil) || got != want {
			t.Fatalf("parseAmzDate(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, want, err)
		}
	})
}

// TestParseAmzDateEveryDay compares parseAmzDate with time.Parse on every
// day of 1999-2401 and on the days past each month's end.
func TestParseAmzDateEveryDay(t *testing.T) {
	for y := 1999; y <= 2401; y++ {
		for m := 1; m <= 12; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d%02d%02dT235959Z", y, m, d)
				got, ok := parseAmzDate(s)
				want, err := time.Parse(AmzDateLayout, s)
				if ok != (err == nil) || got != want {
					t.Fatalf("parseAmzDate(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, want, err)
				}
			}
		}
	}
}

// TestListedIsElementwise compares listed and listedFold with walking the
// ';'-separated list element by element (listedLoop and listedFoldLoop,
// as both were written before), on random lists and names over an
// alphabet heavy in separators and case.
func TestListedIsElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func(max int) string {
		b := make([]byte, rng.IntN(max))
		for i := range b {
			b[i] = "abAB;-"[rng.IntN(6)]
		}
		return string(b)
	}
	for range 20000 {
		signed, name := word(16), word(4)
		if rng.IntN(4) == 0 && signed != "" { // often a name that is in the list
			parts := strings.Split(signed, ";")
			name = parts[rng.IntN(len(parts))]
		}
		if got, want := listed(signed, name), listedLoop(signed, name); got != want {
			t.Fatalf("listed(%q, %q) = %v, want %v", signed, name, got, want)
		}
		if got, want := listedFold(signed, name), listedFoldLoop(signed, name); got != want {
			t.Fatalf("listedFold(%q, %q) = %v, want %v", signed, name, got, want)
		}
	}
}
