package shard

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// bigSequenceNumber is the slow reference encoding of the version-2 layout.
func bigSequenceNumber(id SeqID, pos uint64, kind int64) *big.Int {
	n := big.NewInt(seqVersion)
	n.Lsh(n, 20+64) // version, then 20 zero bits, then the key
	n.Or(n, new(big.Int).SetUint64(id.key()))
	n.Lsh(n, 64)
	n.Or(n, new(big.Int).SetUint64(pos))
	n.Lsh(n, 32)
	n.Or(n, big.NewInt(int64(id.Index)))
	n.Lsh(n, 4)
	return n.Or(n, big.NewInt(kind))
}

// legacySequenceNumber is the 128-bit number earlier releases wrote.
func legacySequenceNumber(id SeqID, pos uint64) string {
	n := new(big.Int).SetUint64(id.key())
	n.Lsh(n, 64)
	return n.Or(n, new(big.Int).SetUint64(pos)).String()
}

func TestSequenceNumberRoundTrip(t *testing.T) {
	f := func(id SeqID, pos uint64) {
		t.Helper()
		got := string(FormatSequenceNumber(nil, id, pos))
		if want := bigSequenceNumber(id, pos, seqKindRecord).String(); got != want {
			t.Fatalf("format(%v,%d) = %s, want %s", id, pos, got, want)
		}
		gid, gpos, err := ParseSequenceNumber(got)
		if err != nil || gid != id || gpos != pos {
			t.Fatalf("parse(%s) = %v,%d,%v; want %v,%d", got, gid, gpos, err, id, pos)
		}
		// Numbers of earlier releases still name the same shard and position.
		legacy := legacySequenceNumber(id, pos)
		gid, gpos, err = ParseSequenceNumber(legacy)
		if err != nil || gid != id || gpos != pos {
			t.Fatalf("parse(legacy %s) = %v,%d,%v; want %v,%d", legacy, gid, gpos, err, id, pos)
		}
	}
	f(SeqID{}, 0)
	f(SeqID{}, 12345)
	f(SeqID{EpochMs: 1764000000000, Index: 0}, 0)
	f(SeqID{EpochMs: 1764000000000, Index: 3}, 1<<63+5)
	f(SeqID{EpochMs: maxSeqEpoch, Index: maxSeqIndex}, ^uint64(0))
	f(SeqID{EpochMs: 1, Index: 0}, 9999999999999999999)
}

// TestSequenceNumbersReadAsKCLDoes decodes numbers the way the Kinesis Client
// Library's SequenceNumberValidator (V2SequenceNumberReader, amazon-kinesis-
// client) reads AWS's: exactly 186 bits, version 2 in bits 187..184, the
// shard index in bits 35..4, from which it rebuilds "shardId-%012d".
func TestSequenceNumbersReadAsKCLDoes(t *testing.T) {
	for _, id := range []SeqID{{EpochMs: 1764000000000}, {EpochMs: 1764000000000, Index: 7}, {EpochMs: maxSeqEpoch, Index: maxSeqIndex}, {}} {
		for _, pos := range []uint64{0, 1, 1 << 40, ^uint64(0)} {
			s := string(FormatSequenceNumber(nil, id, pos))
			n, ok := new(big.Int).SetString(s, 10)
			if !ok || n.BitLen() != 186 || len(s) != seqDigits {
				t.Fatalf("%v/%d: %s has %d bits, %d digits; want 186 bits, 56 digits", id, pos, s, n.BitLen(), len(s))
			}
			version := new(big.Int).Rsh(n, 184).Uint64() & 0xf
			index := new(big.Int).Rsh(n, 4).Uint64() & 0xffffffff
			if version != 2 || int(index) != id.Index {
				t.Fatalf("%s: version %d shard index %d; want 2, %d", s, version, index, id.Index)
			}
		}
	}
}

func TestSequenceNumbersOrderAndWidth(t *testing.T) {
	parent := SeqID{EpochMs: 1764000000000, Index: 1}
	child := SeqID{EpochMs: 1764000000000, Index: 2}
	a := string(FormatSequenceNumber(nil, parent, 1<<40))
	b := string(FormatSequenceNumber(nil, parent, 1<<40+1))
	c := string(formatSequenceNumberBefore(nil, child))
	d := string(FormatSequenceNumber(nil, child, 0))
	for _, s := range []string{a, b, c, d} {
		if len(s) != seqDigits {
			t.Fatalf("%s has %d digits, want %d", s, len(s), seqDigits)
		}
	}
	if !(a < b && b < c && c < d) {
		t.Fatalf("order: %s %s %s %s", a, b, c, d)
	}
}

func TestParseSequenceNumberRejects(t *testing.T) {
	valid := bigSequenceNumber(SeqID{EpochMs: 1764000000000, Index: 3}, 5, seqKindRecord)
	tweak := func(f func(n *big.Int)) string {
		n := new(big.Int).Set(valid)
		f(n)
		return n.String()
	}
	for _, s := range []string{"", "abc", "-1", "1 ", "99999999999999999999999999999999999999999", strings.Repeat("9", 57),
		tweak(func(n *big.Int) { n.SetBit(n, 186, 1) }),                             // version 6
		tweak(func(n *big.Int) { n.SetBit(n, 170, 1) }),                             // a zero bit set
		tweak(func(n *big.Int) { n.SetBit(n, 4, 0) }),                               // index copy disagrees
		tweak(func(n *big.Int) { n.SetBit(n, 2, 1) }),                               // unknown kind
		bigSequenceNumber(SeqID{EpochMs: 1764000000000}, 1, seqKindBefore).String(), // "before" past position 0
	} {
		if _, _, err := ParseSequenceNumber(s); !errors.Is(err, ErrBadSequenceNumber) {
			t.Errorf("ParseSequenceNumber(%q) err = %v, want ErrBadSequenceNumber", s, err)
		}
	}
}

func FuzzSequenceNumber(f *testing.F) {
	f.Add(int64(1764000000000), 3, uint64(42), "49590338271490256608559692538361571095921575989136588898")
	f.Add(int64(0), 0, uint64(0), "0")
	f.Fuzz(func(t *testing.T, epoch int64, index int, pos uint64, raw string) {
		id := SeqID{EpochMs: epoch & maxSeqEpoch, Index: index & maxSeqIndex}
		s := string(FormatSequenceNumber(nil, id, pos))
		gid, gpos, err := ParseSequenceNumber(s)
		if err != nil || gid != id || gpos != pos {
			t.Fatalf("round trip %v %d -> %s -> %v %d %v", id, pos, s, gid, gpos, err)
		}
		// Arbitrary input never panics, and whatever parses is the number
		// its fields encode.
		d, err := parseSeq(raw)
		if err != nil {
			return
		}
		n, ok := new(big.Int).SetString(raw, 10)
		var want string
		switch {
		case d.legacy:
			want = legacySequenceNumber(d.id, d.pos)
		case d.before:
			want = string(formatSequenceNumberBefore(nil, d.id))
		default:
			want = string(FormatSequenceNumber(nil, d.id, d.pos))
		}
		if !ok || n.String() != want {
			t.Fatalf("parse(%q) -> %+v -> %s", raw, d, want)
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
	// A run across the carry out of the last lowDigits digits.
	for _, id := range ids {
		low := string(FormatSequenceNumber(nil, id, 1000))
		v, _ := strconv.ParseUint(low[len(low)-lowDigits:], 10, 64)
		carry := 1000 + (lowLimit-v)/seqStep // the first position whose low digits wrap
		for seq := carry - 3; seq < carry+3; seq++ {
			check(id, seq)
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
	// Shard 1's number before position 0 belongs to shard 1 alone.
	a, b := st.Shards()[0], st.Shards()[1]
	if _, err := a.PositionAfter(b.SequenceNumberBefore(0)); !errors.Is(err, ErrForeignSequenceNumber) {
		t.Fatalf("shard 0 PositionAfter(shard 1's before 0) err = %v, want ErrForeignSequenceNumber", err)
	}
	// Earlier releases wrote it as the last position of the key below
	// shard 1's: a checkpoint holding it still resumes at position 0.
	legacy := legacySequenceNumber(idOfKey(b.SeqID().key()-1), math.MaxUint64)
	if pos, err := b.PositionAfter(legacy); err != nil || pos != 0 {
		t.Fatalf("shard 1 PositionAfter(legacy before 0) = %d, %v; want 0", pos, err)
	}
	// The last position has nothing after it: no wrap to position 0.
	if pos, err := a.PositionAfter(a.SequenceNumber(math.MaxUint64)); err != nil || pos != math.MaxUint64 {
		t.Fatalf("PositionAfter(last) = %d, %v; want MaxUint64", pos, err)
	}
}

// BenchmarkSeqFormatter formats the numbers of 500 consecutive positions,
// as a PutRecords answer or a page of GetRecords does.
func BenchmarkSeqFormatter(b *testing.B) {
	id := SeqID{EpochMs: 1764000000000, Index: 3}
	var f SeqFormatter
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		base := uint64(i) * 1000
		for pos := base; pos < base+500; pos++ {
			buf = f.Append(buf[:0], id, pos)
		}
	}
}
