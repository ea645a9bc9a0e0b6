package shard

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// bigSequenceNumber is the slow reference encoding.
func bigSequenceNumber(id SeqID, seq uint64) string {
	n := new(big.Int).SetUint64(uint64(id.EpochMs))
	n.Lsh(n, seqIndexBits)
	n.Or(n, big.NewInt(int64(id.Index)))
	n.Lsh(n, 64)
	n.Or(n, new(big.Int).SetUint64(seq))
	return n.String()
}

func TestSequenceNumberRoundTrip(t *testing.T) {
	f := func(id SeqID, seq uint64) {
		t.Helper()
		got := string(FormatSequenceNumber(nil, id, seq))
		if want := bigSequenceNumber(id, seq); got != want {
			t.Fatalf("format(%v,%d) = %s, want %s", id, seq, got, want)
		}
		gid, gseq, err := ParseSequenceNumber(got)
		if err != nil || gid != id || gseq != seq {
			t.Fatalf("parse(%s) = %v,%d,%v; want %v,%d", got, gid, gseq, err, id, seq)
		}
	}
	f(SeqID{}, 0)
	f(SeqID{}, 12345)
	f(SeqID{EpochMs: 1764000000000, Index: 0}, 0)
	f(SeqID{EpochMs: 1764000000000, Index: 3}, 1<<63+5)
	f(SeqID{EpochMs: maxSeqEpoch, Index: maxSeqIndex}, ^uint64(0))
	f(SeqID{EpochMs: 1, Index: 0}, 9999999999999999999)
}

func TestSequenceNumbersOrderAndWidth(t *testing.T) {
	parent := SeqID{EpochMs: 1764000000000, Index: 1}
	child := SeqID{EpochMs: 1764000000000, Index: 2}
	a := string(FormatSequenceNumber(nil, parent, 1<<40))
	b := string(FormatSequenceNumber(nil, parent, 1<<40+1))
	c := string(FormatSequenceNumber(nil, child, 0))
	if len(a) != 38 || len(b) != 38 || len(c) != 38 {
		t.Fatalf("widths %d %d %d, want 38", len(a), len(b), len(c))
	}
	if !(a < b && b < c) {
		t.Fatalf("order: %s %s %s", a, b, c)
	}
}

func TestParseSequenceNumberRejects(t *testing.T) {
	for _, s := range []string{"", "abc", "-1", "1 ", "340282366920938463463374607431768211456", "99999999999999999999999999999999999999999"} {
		if _, _, err := ParseSequenceNumber(s); !errors.Is(err, ErrBadSequenceNumber) {
			t.Errorf("ParseSequenceNumber(%q) err = %v, want ErrBadSequenceNumber", s, err)
		}
	}
}

func FuzzSequenceNumber(f *testing.F) {
	f.Add(int64(1764000000000), 3, uint64(42), "49590338271490256608559692538361571095921575989136588898")
	f.Add(int64(0), 0, uint64(0), "0")
	f.Fuzz(func(t *testing.T, epoch int64, index int, seq uint64, raw string) {
		id := SeqID{EpochMs: epoch & maxSeqEpoch, Index: index & maxSeqIndex}
		s := string(FormatSequenceNumber(nil, id, seq))
		gid, gseq, err := ParseSequenceNumber(s)
		if err != nil || gid != id || gseq != seq {
			t.Fatalf("round trip %v %d -> %s -> %v %d %v", id, seq, s, gid, gseq, err)
		}
		// Arbitrary input never panics, and whatever parses formats back to
		// the same number without leading zeros.
		if rid, rseq, err := ParseSequenceNumber(raw); err == nil {
			back := string(FormatSequenceNumber(nil, rid, rseq))
			n, ok := new(big.Int).SetString(raw, 10)
			if !ok || n.String() != back {
				t.Fatalf("parse(%q) -> %s", raw, back)
			}
		}
	})
}

func TestSeqFormatterMatchesFormat(t *testing.T) {
	var f SeqFormatter
	ids := []SeqID{{EpochMs: 1764000000000, Index: 1}, {EpochMs: 1764000000000, Index: 2}, {}}
	check := func(id SeqID, seq uint64) {
		t.Helper()
		got := string(f.Append(nil, id, seq))
		if want := string(FormatSequenceNumber(nil, id, seq)); got != want {
			t.Fatalf("SeqFormatter(%v, %d) = %s, want %s", id, seq, got, want)
		}
	}
	for _, id := range ids {
		for _, start := range []uint64{0, 8, 99, 9999999999999999990, 1<<64 - 3} {
			for seq := start; seq >= start && seq < start+12; seq++ { // runs across carries
				check(id, seq)
			}
		}
	}
	check(ids[0], 5) // jumps back and between shards
	check(ids[1], 6)
	check(ids[1], 6)
}

func TestSequenceNumberBeforeFirstPosition(t *testing.T) {
	s := mustOpen(t, testOptions(t, t.TempDir(), nil))
	st := mustCreate(t, s, "before", 2)
	for _, sh := range st.Shards() {
		before := sh.SequenceNumberBefore(0)
		start := sh.StartingSequenceNumber()
		if len(before) != len(start) || before >= start {
			t.Fatalf("%s: %s does not sort just before %s", sh.ID(), before, start)
		}
		if pos, err := sh.PositionAfter(before); err != nil || pos != 0 {
			t.Fatalf("%s: PositionAfter(before 0) = %d, %v; want 0", sh.ID(), pos, err)
		}
		if pos, err := sh.Position(before); err != nil || pos != 0 {
			t.Fatalf("%s: Position(before 0) = %d, %v; want 0", sh.ID(), pos, err)
		}
		if got := sh.SequenceNumberBefore(7); got != sh.SequenceNumber(6) {
			t.Fatalf("%s: SequenceNumberBefore(7) = %s, want %s", sh.ID(), got, sh.SequenceNumber(6))
		}
		if pos, err := sh.PositionAfter(sh.SequenceNumber(6)); err != nil || pos != 7 {
			t.Fatalf("%s: PositionAfter(6) = %d, %v; want 7", sh.ID(), pos, err)
		}
	}
	// Shard 1's number before position 0 is shard 0's last possible
	// number: after it comes nothing, not a wrap to position 0.
	a, b := st.Shards()[0], st.Shards()[1]
	if pos, err := a.PositionAfter(b.SequenceNumberBefore(0)); err != nil || pos != math.MaxUint64 {
		t.Fatalf("shard 0 PositionAfter(shard 1's before 0) = %d, %v; want MaxUint64", pos, err)
	}
}
