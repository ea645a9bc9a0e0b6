package wire

import (
	"testing"
)

func TestIsStreamNameMatchesPattern(t *testing.T) {
	for _, s := range []string{"a", "Orders_2024.v1-x", "..", ".", "a b", "a/b", "ü", "x\x00", "A-Z_0.9", "-", "", "abc$"} {
		if got, want := IsStreamName(s) && s != "", StreamNamePattern.MatchString(s); got != want {
			t.Errorf("isStreamName(%q) = %v, pattern says %v", s, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		s := string([]byte{'a', byte(c)})
		if got, want := IsStreamName(s), StreamNamePattern.MatchString(s); got != want {
			t.Errorf("isStreamName(%q) = %v, pattern says %v", s, got, want)
		}
	}
}
