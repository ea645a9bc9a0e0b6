package wire

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var (
	testSecret    = []byte("0123456789abcdef0123456789abcdef")
	foreignSecret = []byte("fedcba9876543210fedcba9876543210")
)

// sealerKinds names the sealers of one tokenSealers, so a test can run
// over every kind of token.
func sealerKinds(ts Tokens) map[string]*Sealer {
	return map[string]*Sealer{"iterator": ts.Iterators, "shards": ts.Shards, "consumers": ts.Consumers, "streams": ts.Streams}
}

// sealBody is the token of body.
func sealBody(sl *Sealer, body []byte) string {
	return string(sl.Seal(nil, func(b []byte) []byte { return append(b, body...) }))
}

// opens reports whether sl opens token, and the body it opened.
func opens(sl *Sealer, token string) ([]byte, bool) {
	var got []byte
	err := sl.Open(token, func(body []byte) error {
		got = bytes.Clone(body)
		return nil
	})
	return got, err == nil
}

// TestSealRejects: for every kind of token, a sealed body opens to itself
// and nothing else opens: a bit flipped anywhere, a truncation, another
// data directory's key, another kind's key, bytes appended, the base64
// variants shardlog does not issue, or the unsealed formats tokens had
// before.
func TestSealRejects(t *testing.T) {
	ours, foreign := NewTokens(testSecret), NewTokens(foreignSecret)
	body := []byte(`{"v":1,"s":"other","c":1700000000000,"a":"shardId-000000000003","t":1700000000123}`)
	for kind, sl := range sealerKinds(ours) {
		t.Run(kind, func(t *testing.T) {
			tok := sealBody(sl, body)
			if got, ok := opens(sl, tok); !ok || !bytes.Equal(got, body) {
				t.Fatalf("round trip: %q, %v", got, ok)
			}
			if strings.ContainsAny(tok, "+/=") || len(tok) > sl.MaxTokenChars() {
				t.Fatalf("token %q is not unpadded URL-safe base64 within %d chars", tok, sl.MaxTokenChars())
			}
			if again := sealBody(sl, body); again == tok {
				t.Fatal("two seals of one body are equal: the nonce is not random")
			}
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				t.Fatal(err)
			}
			reject := func(name, tok string) {
				t.Helper()
				if got, ok := opens(sl, tok); ok {
					t.Errorf("%s: opened to %q", name, got)
				}
			}
			for i := range raw {
				for bit := range 8 {
					flipped := bytes.Clone(raw)
					flipped[i] ^= 1 << bit
					reject("bit flipped", base64.RawURLEncoding.EncodeToString(flipped))
				}
			}
			for _, n := range []int{0, 1, len(raw) - 1, len(raw) - 16, SealOverhead, SealOverhead - 1} {
				reject("truncated raw", base64.RawURLEncoding.EncodeToString(raw[:n]))
			}
			reject("truncated token", tok[:len(tok)-1])
			if len(raw)%3 != 0 { // the last character has unused low bits
				const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				last := strings.IndexByte(alphabet, tok[len(tok)-1])
				reject("non-canonical spelling", tok[:len(tok)-1]+string(alphabet[last^1]))
			}
			reject("appended", tok+"A")
			reject("appended bytes", base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)))
			reject("padded std base64", base64.StdEncoding.EncodeToString(raw))
			reject("empty", "")
			reject("not base64", "not a token!")
			reject("too long", strings.Repeat("A", sl.MaxTokenChars()+4))
			reject("plain body", base64.RawURLEncoding.EncodeToString(body))
			reject("plain body, std", base64.StdEncoding.EncodeToString(body))
			for other, osl := range sealerKinds(ours) {
				if other == kind {
					continue
				}
				if _, ok := opens(osl, tok); ok {
					t.Errorf("a %s token opened as a %s token", kind, other)
				}
			}
			if _, ok := opens(sealerKinds(foreign)[kind], tok); ok {
				t.Error("a token opened under another data directory's key")
			}
		})
	}
}

// TestSealedIterator: an iterator round-trips, its longest form fits the
// API's 512 characters, and no stream name or shard id shows through.
func TestSealedIterator(t *testing.T) {
	s := struct{ tokens Tokens }{NewTokens(testSecret)}
	it := Iterator{Stream: strings.Repeat("s", 128), ShardID: "shardId-000000000042", ShardEpochMs: 1700000000000, Pos: 1 << 40, IssuedMs: 1700000000123}
	tok := string(s.tokens.AppendIterator(nil, it))
	if len(tok) > MaxIteratorChars {
		t.Fatalf("longest iterator is %d chars", len(tok))
	}
	got, err := s.tokens.OpenIterator(tok)
	if err != nil || got != it {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	if bytes.Contains(raw, []byte("sss")) || bytes.Contains(raw, []byte("shardId")) {
		t.Fatal("the iterator shows its stream or shard in clear")
	}
	// A token of another kind, even with an iterator-sized body, is refused.
	if _, err := s.tokens.OpenIterator(sealBody(s.tokens.Shards, raw[:IteratorFixed])); err != ErrBadIterator {
		t.Fatalf("a ListShards token as an iterator: %v", err)
	}
	// A sealed body that is not an iterator body is still refused.
	if _, err := s.tokens.OpenIterator(sealBody(s.tokens.Iterators, []byte{IteratorVersion, 1, 2})); err != ErrBadIterator {
		t.Fatalf("short body: %v", err)
	}
	long := Iterator{Stream: strings.Repeat("s", 128), ShardID: strings.Repeat("x", MaxIteratorBody-IteratorFixed-128)}
	if tok := s.tokens.AppendIterator(nil, long); len(tok) > MaxIteratorChars {
		t.Fatalf("an iterator of the longest body is %d chars", len(tok))
	}
}

func TestClipToken(t *testing.T) {
	f := func(in string, want string) {
		t.Helper()
		if got := ClipToken(in); got != want {
			t.Errorf("clipToken(%d chars) = %q, want %q", len(in), got, want)
		}
	}
	f("", "")
	f("abc", "abc")
	f(strings.Repeat("a", 100), strings.Repeat("a", 100))
	f(strings.Repeat("a", 101), strings.Repeat("a", 100)+"...")
}

func TestOpenedOnce(t *testing.T) {
	var o Opened[int]
	calls := 0
	open := func() (int, error) { calls++; return 7, nil }
	for range 3 {
		if v, err := o.Get(open); v != 7 || err != nil {
			t.Fatalf("got %d, %v", v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("opened %d times", calls)
	}
}

// FuzzOpenToken feeds arbitrary strings to every kind of sealer: opening
// never panics, and what opens is a token issued by exactly one sealer, to
// one of the bodies sealed for the seeds. (The seeds are sealed afresh in
// each fuzzing process, under random nonces, so the oracle is the bodies
// and not the token strings.)
func FuzzOpenToken(f *testing.F) {
	ts := NewTokens(testSecret)
	bodies := map[string]bool{"": true, "x": true, `{"v":1,"s":"app","c":1,"a":"shardId-000000000000","t":2}`: true,
		`{"a":"stream-9"}`: true, strings.Repeat("b", MaxIteratorBody): true}
	for _, sl := range sealerKinds(ts) {
		for b := range bodies {
			f.Add(sealBody(sl, []byte(b)))
		}
	}
	// A ListShards NextToken body in clear, as its operation would seal it.
	plain := []byte(`{"v":1,"s":"other","c":1,"a":"shardId-000000000000","t":2}`)
	f.Add(base64.RawURLEncoding.EncodeToString(plain))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte("shardlog-streams-v1:app")))
	f.Add("")
	f.Add("garbage")
	f.Add(strings.Repeat("A", 512))
	f.Add("AAAA====")
	f.Fuzz(func(t *testing.T, token string) {
		opener := ""
		for kind, sl := range sealerKinds(ts) {
			got, ok := opens(sl, token)
			switch {
			case !ok:
			case !bodies[string(got)]:
				t.Fatalf("%s sealer opened %q to a body never sealed: %q", kind, token, got)
			case opener != "":
				t.Fatalf("%q opened as a %s and as a %s token", token, opener, kind)
			default:
				opener = kind
			}
		}
	})
}

// FuzzIteratorToken: any iterator round-trips through its token, within
// the API's length limit.
func FuzzIteratorToken(f *testing.F) {
	s := struct{ tokens Tokens }{NewTokens(testSecret)}
	f.Add("stream", "shardId-000000000000", int64(1700000000000), uint64(0), int64(1700000000123))
	f.Add("a.b_c-d", "shardId-000000000042", int64(0), ^uint64(0), int64(-1))
	f.Add("", "", int64(1), uint64(1), int64(1))
	f.Fuzz(func(t *testing.T, stream, shardID string, epoch int64, pos uint64, issued int64) {
		if len(stream) > 128 || len(shardID) > 128 {
			return
		}
		it := Iterator{Stream: stream, ShardID: shardID, ShardEpochMs: epoch, Pos: pos, IssuedMs: issued}
		tok := string(s.tokens.AppendIterator(nil, it))
		if len(tok) > MaxIteratorChars {
			t.Fatalf("token of %d chars exceeds the API limit", len(tok))
		}
		if got, err := s.tokens.OpenIterator(tok); err != nil || got != it {
			t.Fatalf("round trip: got %+v, %v; want %+v", got, err, it)
		}
	})
}

func BenchmarkSealIterator(b *testing.B) {
	s := struct{ tokens Tokens }{NewTokens(testSecret)}
	it := Iterator{Stream: "orders-eu-west", ShardID: "shardId-000000000042", ShardEpochMs: 1700000000000, Pos: 1 << 40, IssuedMs: 1700000000123}
	tok := s.tokens.AppendIterator(nil, it)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = s.tokens.AppendIterator(buf[:0], it)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		str := string(tok)
		for b.Loop() {
			if _, err := s.tokens.OpenIterator(str); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-parallel", func(b *testing.B) {
		b.ReportAllocs()
		str := string(tok)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.tokens.OpenIterator(str); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
