package shard

import (
	"fmt"
	"math/bits"
	"strconv"
)

// A SequenceNumber is the decimal string Kinesis shows for a record. shardlog
// packs three fields into one unsigned 128-bit integer:
//
//	bits 127..84  epoch  (44 bits)  creation time of the shard, ms since 1970
//	bits  83..64  index  (20 bits)  the shard's index within its stream
//	bits  63..0   seq    (64 bits)  the record's position within the shard
//
// Numbers therefore grow with seq inside a shard, and every number of a child
// shard is greater than every number of its parents (children are created
// later). From the number alone the server knows the shard and the position, so
// AT_SEQUENCE_NUMBER needs no search, and a number whose epoch or index differs
// from the shard's is recognisably foreign. For shards created between 2004 and
// 2039 the decimal form always has 38 digits, so string order equals numeric
// order.
const (
	seqEpochBits = 44
	seqIndexBits = 20
	maxSeqEpoch  = 1<<seqEpochBits - 1
	maxSeqIndex  = 1<<seqIndexBits - 1
)

// SeqID identifies the shard a sequence number belongs to.
type SeqID struct {
	EpochMs int64 // creation time of the shard, ms since the Unix epoch
	Index   int   // shard index within its stream
}

// FormatSequenceNumber appends the decimal sequence number of position seq in
// the shard identified by id to dst. It does not allocate when dst has room
// for 39 more bytes.
func FormatSequenceNumber(dst []byte, id SeqID, seq uint64) []byte {
	return appendUint128(dst, seqIDBits(id), seq)
}

// seqIDBits is the upper 64 bits of the sequence numbers of id.
func seqIDBits(id SeqID) uint64 {
	return uint64(id.EpochMs)<<seqIndexBits | uint64(id.Index)
}

// ParseSequenceNumber splits a decimal sequence number into its shard identity
// and position. It returns ErrBadSequenceNumber for anything that is not a
// number shardlog could have issued.
func ParseSequenceNumber(s string) (SeqID, uint64, error) {
	if len(s) == 0 || len(s) > 39 {
		return SeqID{}, 0, fmt.Errorf("shard: sequence number %q: %w", s, ErrBadSequenceNumber)
	}
	var hi, lo uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return SeqID{}, 0, fmt.Errorf("shard: sequence number %q: %w", s, ErrBadSequenceNumber)
		}
		// (hi,lo) = (hi,lo)*10 + digit, detecting overflow past 128 bits.
		h1, l1 := bits.Mul64(lo, 10)
		h2, h2lo := bits.Mul64(hi, 10)
		if h2 != 0 {
			return SeqID{}, 0, fmt.Errorf("shard: sequence number %q: %w", s, ErrBadSequenceNumber)
		}
		nh, carry := bits.Add64(h2lo, h1, 0)
		if carry != 0 {
			return SeqID{}, 0, fmt.Errorf("shard: sequence number %q: %w", s, ErrBadSequenceNumber)
		}
		nl, c2 := bits.Add64(l1, uint64(c-'0'), 0)
		nh, carry = bits.Add64(nh, 0, c2)
		if carry != 0 {
			return SeqID{}, 0, fmt.Errorf("shard: sequence number %q: %w", s, ErrBadSequenceNumber)
		}
		hi, lo = nh, nl
	}
	id := SeqID{EpochMs: int64(hi >> seqIndexBits), Index: int(hi & maxSeqIndex)}
	return id, lo, nil
}

// appendUint128 appends the decimal form of hi<<64|lo.
func appendUint128(dst []byte, hi, lo uint64) []byte {
	if hi == 0 {
		return strconv.AppendUint(dst, lo, 10)
	}
	// Divide by 10^19 twice: the quotient of the first division has at most 20 digits.
	const pow19 = 10000000000000000000
	var digits [40]byte
	pos := len(digits)
	for hi != 0 {
		qHi := hi / pow19
		rem := hi % pow19
		qLo, r := bits.Div64(rem, lo, pow19)
		hi, lo = qHi, qLo
		for i := 0; i < 19; i++ {
			pos--
			digits[pos] = byte('0' + r%10)
			r /= 10
		}
	}
	dst = strconv.AppendUint(dst, lo, 10)
	return append(dst, digits[pos:]...)
}

// SeqFormatter formats the sequence numbers of one shard, fast when they
// come in runs of consecutive positions (a batch of appends, a page of
// reads): the next number is the previous one's digits plus one, not two
// 128-bit divisions per 19 digits. The zero value is ready to use; it is not
// safe for concurrent use.
type SeqFormatter struct {
	id     SeqID
	seq    uint64
	digits [40]byte
	n      int // digits in use; 0 until the first Append
}

// Append appends the decimal sequence number of position seq of shard id,
// exactly as FormatSequenceNumber does.
func (f *SeqFormatter) Append(dst []byte, id SeqID, seq uint64) []byte {
	if f.n > 0 && id == f.id && seq == f.seq+1 && seq != 0 && incrementDecimal(f.digits[:f.n]) {
		f.seq = seq
		return append(dst, f.digits[:f.n]...)
	}
	f.n = len(FormatSequenceNumber(f.digits[:0], id, seq))
	f.id, f.seq = id, seq
	return append(dst, f.digits[:f.n]...)
}

// incrementDecimal adds one to the decimal number in b in place, and
// reports false (b then holds garbage) when the result needs another digit.
func incrementDecimal(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != '9' {
			b[i]++
			return true
		}
		b[i] = '0'
	}
	return false
}
