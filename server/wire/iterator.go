package wire

import (
	"encoding/binary"
	"errors"
)

// A shard iterator is a sealed token (seal.go, purposeIterator) whose body
// is:
//
//	offset  size  field
//	0       1     version (2)
//	1       8     issuedMs      when the token was made, ms since the epoch (big-endian)
//	9       8     shardEpochMs  creation time of the shard (tells a recreated stream's shard apart)
//	17      8     pos           position in the shard (shard seq)
//	25      1     n             length of the stream name
//	26      n     stream name
//	26+n    1     m             length of the shard id
//	27+n    m     shard id
//
// Sealing makes iterators unforgeable and opaque and binds the position to
// its stream and shard; the key derives from the store's secret, so
// iterators outlive a restart of the same data directory and are worthless
// against another. (Version 1 was the same body in clear, signed with
// HMAC-SHA256; such iterators no longer open.)
const (
	IteratorVersion = 2
	IteratorFixed   = 1 + 8 + 8 + 8 + 1 + 1
	// MaxIteratorChars is the ShardIterator length limit of the API.
	MaxIteratorChars = 512
	// MaxIteratorBody is the longest body whose token fits maxIteratorChars:
	// 356 bytes, room for a 128-character stream name (the API's limit)
	// and a shard id of up to 193 characters.
	MaxIteratorBody = MaxIteratorChars/4*3 - SealOverhead
)

// Iterator is a decoded shard iterator token.
type Iterator struct {
	Stream       string // stream name
	ShardID      string
	ShardEpochMs int64  // creation time of the shard, ms since the epoch
	Pos          uint64 // position in the shard (shard seq)
	IssuedMs     int64  // when the token was made, ms since the epoch
}

// ErrBadIterator is the answer to any iterator that does not open.
var ErrBadIterator = &APIError{Type: InvalidArgument, Message: "Invalid ShardIterator."}

// AppendIterator appends the sealed token of it to dst.
func (t *Tokens) AppendIterator(dst []byte, it Iterator) []byte {
	if IteratorFixed+len(it.Stream)+len(it.ShardID) > MaxIteratorBody || len(it.Stream) > 255 || len(it.ShardID) > 255 {
		panic("BUG: stream name or shard id too long for an iterator")
	}
	return t.Iterators.Seal(dst, func(b []byte) []byte {
		b = append(b, IteratorVersion)
		b = binary.BigEndian.AppendUint64(b, uint64(it.IssuedMs))
		b = binary.BigEndian.AppendUint64(b, uint64(it.ShardEpochMs))
		b = binary.BigEndian.AppendUint64(b, it.Pos)
		b = append(b, byte(len(it.Stream)))
		b = append(b, it.Stream...)
		b = append(b, byte(len(it.ShardID)))
		return append(b, it.ShardID...)
	})
}

// OpenIterator opens and decodes a token. Any malformed, truncated,
// tampered or foreign token is errBadIterator. A token wrapped in one pair
// of double quotes is accepted, as AWS does (LocalStack's AWS-validated
// test_get_records_shard_iterator_with_surrounding_quotes): some clients
// pass a JSON-encoded string on.
func (t *Tokens) OpenIterator(token string) (Iterator, error) {
	if len(token) >= 2 && token[0] == '"' && token[len(token)-1] == '"' {
		token = token[1 : len(token)-1]
	}
	var it Iterator
	err := t.Iterators.Open(token, func(body []byte) error {
		var err error
		it, err = ParseIteratorBody(body)
		return err
	})
	if err != nil {
		return Iterator{}, ErrBadIterator
	}
	return it, nil
}

var errShort = errors.New("wire: iterator body malformed")

// ParseIteratorBody decodes the sealed body of a token.
func ParseIteratorBody(b []byte) (Iterator, error) {
	if len(b) < IteratorFixed || b[0] != IteratorVersion {
		return Iterator{}, errShort
	}
	it := Iterator{
		IssuedMs:     int64(binary.BigEndian.Uint64(b[1:])),
		ShardEpochMs: int64(binary.BigEndian.Uint64(b[9:])),
		Pos:          binary.BigEndian.Uint64(b[17:]),
	}
	rest := b[25:]
	n := int(rest[0])
	if len(rest) < 1+n+1 {
		return Iterator{}, errShort
	}
	it.Stream = string(rest[1 : 1+n])
	rest = rest[1+n:]
	m := int(rest[0])
	if len(rest) != 1+m {
		return Iterator{}, errShort
	}
	it.ShardID = string(rest[1:])
	return it, nil
}
