package shard

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
)

// HashKey is an unsigned 128-bit hash key, the coordinate Kinesis routes records
// by. The zero value is hash key 0.
type HashKey struct {
	Hi, Lo uint64
}

// MaxHashKey is 2^128-1, the top of the hash-key space.
var MaxHashKey = HashKey{Hi: ^uint64(0), Lo: ^uint64(0)}

// HashPartitionKey returns the MD5 of a partition key read as a big-endian
// unsigned 128-bit integer, as Kinesis maps partition keys to shards.
func HashPartitionKey(partitionKey []byte) HashKey {
	sum := md5.Sum(partitionKey)
	return HashKey{Hi: binary.BigEndian.Uint64(sum[:8]), Lo: binary.BigEndian.Uint64(sum[8:])}
}

var maxHashKeyBig = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// ParseHashKey parses a decimal hash key in [0, 2^128-1]. Leading zeros are
// accepted; anything else that is not a plain decimal number is an error.
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 128 {
		return HashKey{}, fmt.Errorf("shard: hash key %q: %w", s, ErrBadHashKey)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return HashKey{}, fmt.Errorf("shard: hash key %q: %w", s, ErrBadHashKey)
		}
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(maxHashKeyBig) > 0 {
		return HashKey{}, fmt.Errorf("shard: hash key %q: %w", s, ErrBadHashKey)
	}
	var buf [16]byte
	n.FillBytes(buf[:])
	return HashKey{Hi: binary.BigEndian.Uint64(buf[:8]), Lo: binary.BigEndian.Uint64(buf[8:])}, nil
}

// String formats the key in decimal, as the Kinesis API shows hash keys.
func (k HashKey) String() string {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], k.Hi)
	binary.BigEndian.PutUint64(buf[8:], k.Lo)
	return new(big.Int).SetBytes(buf[:]).String()
}

// Cmp compares two keys and returns -1, 0 or +1.
func (k HashKey) Cmp(o HashKey) int {
	switch {
	case k.Hi < o.Hi:
		return -1
	case k.Hi > o.Hi:
		return 1
	case k.Lo < o.Lo:
		return -1
	case k.Lo > o.Lo:
		return 1
	}
	return 0
}

// Add1 returns k+1, wrapping at 2^128.
func (k HashKey) Add1() HashKey {
	lo, carry := bits.Add64(k.Lo, 1, 0)
	return HashKey{Hi: k.Hi + carry, Lo: lo}
}

// Sub1 returns k-1, wrapping at 0.
func (k HashKey) Sub1() HashKey {
	lo, borrow := bits.Sub64(k.Lo, 1, 0)
	return HashKey{Hi: k.Hi - borrow, Lo: lo}
}

// HashRange is an inclusive range of hash keys owned by one shard.
type HashRange struct {
	Start, End HashKey
}

// Contains reports whether k lies in the range.
func (r HashRange) Contains(k HashKey) bool {
	return r.Start.Cmp(k) <= 0 && k.Cmp(r.End) <= 0
}

// SplitEvenly divides [0, 2^128-1] into n contiguous ranges, as CreateStream
// does: each range has floor(2^128/n) keys and the last one takes the
// remainder. n must be at least 1.
func SplitEvenly(n int) []HashRange {
	if n < 1 {
		panic("BUG: SplitEvenly needs n >= 1")
	}
	// width = floor(2^128 / n), computed as floor((2^128-1)/n) adjusted for the
	// case where n divides 2^128 exactly.
	total := new(big.Int).Lsh(big.NewInt(1), 128)
	width := new(big.Int).Div(total, big.NewInt(int64(n)))
	ranges := make([]HashRange, n)
	start := new(big.Int)
	for i := 0; i < n; i++ {
		end := new(big.Int).Add(start, width)
		end.Sub(end, big.NewInt(1))
		if i == n-1 {
			end.Set(maxHashKeyBig)
		}
		ranges[i] = HashRange{Start: fromBig(start), End: fromBig(end)}
		start.Add(end, big.NewInt(1))
	}
	return ranges
}

func fromBig(n *big.Int) HashKey {
	var buf [16]byte
	n.FillBytes(buf[:])
	return HashKey{Hi: binary.BigEndian.Uint64(buf[:8]), Lo: binary.BigEndian.Uint64(buf[8:])}
}
