package shard

import (
	"fmt"
	"math/bits"
	"strconv"
)

// A sequence number is the decimal string Kinesis shows for a record.
// shardlog writes the layout AWS calls version 2: an unsigned integer of
// exactly 186 bits, so 56 decimal digits, in which the shard's index sits where
// the Kinesis Client Library's SequenceNumberValidator looks for it:
//
//	bits 187..184  version   (4 bits)   2
//	bits 183..164  zero      (20 bits)
//	bits 163..100  key       (64 bits)  epoch<<20 | index, the shard's identity
//	bits  99..36   position  (64 bits)  the record's position within the shard
//	bits  35..4    index     (32 bits)  the shard's index again (shardId-%012d)
//	bits   3..0    kind      (4 bits)   1 for a record; 0 for the number that
//	                                    precedes position 0 (SequenceNumberBefore)
//
// The epoch is the shard's creation time in ms since 1970 (44 bits) and the
// index its index within the stream (20 bits). Numbers therefore grow with
// the position inside a shard, and every number of a child shard is greater
// than every number of its parents (children are created later, with a higher
// index). From the number alone the server knows the shard and the position,
// so AT_SEQUENCE_NUMBER needs no search, and a number whose key differs from
// the shard's is recognisably foreign. All numbers have 56 digits, so string
// order equals numeric order.
//
// Earlier releases wrote the 128-bit number key<<64 | position (38 digits).
// Those legacy numbers still parse to the same shard and position, so
// checkpoints taken before an upgrade keep working; they are never written.
const (
	seqEpochBits = 44
	seqIndexBits = 20
	maxSeqEpoch  = 1<<seqEpochBits - 1
	maxSeqIndex  = 1<<seqIndexBits - 1

	seqVersion    = 2  // value of bits 187..184
	seqKindRecord = 1  // kind of a record's number
	seqKindBefore = 0  // kind of the number that precedes position 0
	seqDigits     = 56 // decimal digits of every number shardlog writes

	// seqStep is the difference between the numbers of consecutive
	// positions: one unit of the position field.
	seqStep = 1 << 36
)

// SeqID identifies the shard a sequence number belongs to.
type SeqID struct {
	EpochMs int64 // creation time of the shard, ms since the Unix epoch
	Index   int   // shard index within its stream
}

// key is the 64-bit shard identity that orders numbers across shards.
func (id SeqID) key() uint64 {
	return uint64(id.EpochMs)<<seqIndexBits | uint64(id.Index)
}

// uint192 is an unsigned integer of three 64-bit limbs.
type uint192 struct{ hi, mid, lo uint64 }

// encodeSeq lays out the sequence number of pos in shard id, of the given kind.
func encodeSeq(id SeqID, pos uint64, kind uint64) uint192 {
	key := id.key()
	return uint192{
		hi:  key>>28 | seqVersion<<56,
		mid: pos>>28 | key<<36,
		lo:  kind | uint64(uint32(id.Index))<<4 | pos<<36,
	}
}

// FormatSequenceNumber appends the decimal sequence number of position pos in
// the shard identified by id to dst. It does not allocate when dst has room
// for 56 more bytes.
func FormatSequenceNumber(dst []byte, id SeqID, pos uint64) []byte {
	return encodeSeq(id, pos, seqKindRecord).appendDecimal(dst)
}

// formatSequenceNumberBefore appends the number that sorts immediately
// before position 0 of shard id.
func formatSequenceNumberBefore(dst []byte, id SeqID) []byte {
	return encodeSeq(id, 0, seqKindBefore).appendDecimal(dst)
}

// decodedSeq is a parsed sequence number.
type decodedSeq struct {
	id     SeqID
	pos    uint64
	before bool // the number that precedes position 0 of id
	legacy bool // a 128-bit number of earlier releases
}

// ParseSequenceNumber splits a decimal sequence number into its shard identity
// and position. It returns ErrBadSequenceNumber for anything that is not a
// number shardlog could have issued. The number that precedes a shard's
// position 0 parses to that shard and position 0.
func ParseSequenceNumber(s string) (SeqID, uint64, error) {
	d, err := parseSeq(s)
	return d.id, d.pos, err
}

func parseSeq(s string) (decodedSeq, error) {
	bad := func() (decodedSeq, error) {
		return decodedSeq{}, fmt.Errorf("shard: sequence number %q: %w", truncateSeq(s), ErrBadSequenceNumber)
	}
	if len(s) == 0 || len(s) > seqDigits {
		return bad()
	}
	var n uint192
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return bad()
		}
		var ok bool
		if n, ok = n.mulAdd(10, uint64(c-'0')); !ok {
			return bad()
		}
	}
	if n.hi == 0 {
		// A legacy number: key<<64 | position.
		return decodedSeq{id: idOfKey(n.mid), pos: n.lo, legacy: true}, nil
	}
	const zeroMask = (1<<20 - 1) << 36 // bits 183..164 within hi
	if n.hi>>56 != seqVersion || n.hi&zeroMask != 0 {
		return bad()
	}
	key := n.hi<<28 | n.mid>>36
	d := decodedSeq{id: idOfKey(key), pos: n.mid<<28 | n.lo>>36}
	if uint32(n.lo>>4) != uint32(d.id.Index) {
		return bad()
	}
	switch n.lo & 0xf {
	case seqKindRecord:
	case seqKindBefore:
		if d.pos != 0 {
			return bad()
		}
		d.before = true
	default:
		return bad()
	}
	return d, nil
}

func idOfKey(key uint64) SeqID {
	return SeqID{EpochMs: int64(key >> seqIndexBits), Index: int(key & maxSeqIndex)}
}

// truncateSeq keeps error messages short for absurd input.
func truncateSeq(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// mulAdd returns n*m + a and false when the result needs more than 192 bits.
func (n uint192) mulAdd(m, a uint64) (uint192, bool) {
	h0, l0 := bits.Mul64(n.lo, m)
	h1, l1 := bits.Mul64(n.mid, m)
	h2, l2 := bits.Mul64(n.hi, m)
	lo, c := bits.Add64(l0, a, 0)
	mid, c := bits.Add64(l1, h0, c)
	hi, c := bits.Add64(l2, h1, c)
	return uint192{hi: hi, mid: mid, lo: lo}, h2 == 0 && c == 0
}

// appendDecimal appends the decimal form of n.
func (n uint192) appendDecimal(dst []byte) []byte {
	// Divide by 10^19 until the quotient fits one limb; each remainder is 19 digits.
	const pow19 = 10000000000000000000
	var digits [60]byte
	at := len(digits)
	hi, mid, lo := n.hi, n.mid, n.lo
	for hi != 0 || mid != 0 {
		var r uint64
		hi, r = hi/pow19, hi%pow19
		mid, r = bits.Div64(r, mid, pow19)
		lo, r = bits.Div64(r, lo, pow19)
		for i := 0; i < 19; i++ {
			at--
			digits[at] = byte('0' + r%10)
			r /= 10
		}
	}
	dst = strconv.AppendUint(dst, lo, 10)
	return append(dst, digits[at:]...)
}

// SeqFormatter formats the sequence numbers of one shard, fast when they
// come in runs of consecutive positions (a batch of appends, a page of
// reads): the next number is the previous one's digits with seqStep added
// to the last lowDigits of them, not three 192-bit divisions per 19
// digits. The zero value is ready to use; it is not safe for concurrent
// use.
type SeqFormatter struct {
	id     SeqID
	pos    uint64
	digits [seqDigits]byte
	n      int    // digits in use; 0 until the first Append
	low    uint64 // the number in the last lowDigits digits
}

// lowDigits is how many trailing digits SeqFormatter keeps as a uint64: a
// step adds to them with one addition, and they carry into the digits
// before them only every 1e18/seqStep (about 14.5 million) positions.
const (
	lowDigits = 18
	lowLimit  = 1e18
)

// Append appends the decimal sequence number of position pos of shard id,
// exactly as FormatSequenceNumber does.
func (f *SeqFormatter) Append(dst []byte, id SeqID, pos uint64) []byte {
	if f.n >= lowDigits && id == f.id && pos == f.pos+1 && pos != 0 && f.low+seqStep < lowLimit {
		f.low += seqStep
		putLowDigits(f.digits[f.n-lowDigits:f.n], f.low)
		f.pos = pos
		return append(dst, f.digits[:f.n]...)
	}
	f.n = len(FormatSequenceNumber(f.digits[:0], id, pos))
	f.id, f.pos = id, pos
	f.low = 0
	if f.n >= lowDigits {
		for _, d := range f.digits[f.n-lowDigits : f.n] {
			f.low = f.low*10 + uint64(d-'0')
		}
	}
	return append(dst, f.digits[:f.n]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// putLowDigits writes v, below lowLimit, as exactly lowDigits decimal
// digits into b, two at a time.
func putLowDigits(b []byte, v uint64) {
	_ = b[lowDigits-1]
	for i := lowDigits - 2; i >= 0; i -= 2 {
		q := v / 100
		r := (v - q*100) * 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
}
