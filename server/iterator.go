package server

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
	iteratorVersion = 2
	iteratorFixed   = 1 + 8 + 8 + 8 + 1 + 1
	// maxIteratorChars is the ShardIterator length limit of the API.
	maxIteratorChars = 512
	// maxIteratorBody is the longest body whose token fits maxIteratorChars:
	// 356 bytes, room for a 128-character stream name (the API's limit)
	// and a shard id of up to 193 characters.
	maxIteratorBody = maxIteratorChars/4*3 - sealOverhead
)

// iterator is a decoded shard iterator token.
type iterator struct {
	stream       string
	shardID      string
	shardEpochMs int64
	pos          uint64
	issuedMs     int64
}

// errBadIterator is the answer to any iterator that does not open.
var errBadIterator = &APIError{Type: errInvalidArgument, Message: "Invalid ShardIterator."}

// appendIterator appends the sealed token of it to dst.
func (s *Server) appendIterator(dst []byte, it iterator) []byte {
	if iteratorFixed+len(it.stream)+len(it.shardID) > maxIteratorBody || len(it.stream) > 255 || len(it.shardID) > 255 {
		panic("BUG: stream name or shard id too long for an iterator")
	}
	return s.tokens.iterators.seal(dst, func(b []byte) []byte {
		b = append(b, iteratorVersion)
		b = binary.BigEndian.AppendUint64(b, uint64(it.issuedMs))
		b = binary.BigEndian.AppendUint64(b, uint64(it.shardEpochMs))
		b = binary.BigEndian.AppendUint64(b, it.pos)
		b = append(b, byte(len(it.stream)))
		b = append(b, it.stream...)
		b = append(b, byte(len(it.shardID)))
		return append(b, it.shardID...)
	})
}

// openIterator opens and decodes a token. Any malformed, truncated,
// tampered or foreign token is errBadIterator. A token wrapped in one pair
// of double quotes is accepted, as AWS does (LocalStack's AWS-validated
// test_get_records_shard_iterator_with_surrounding_quotes): some clients
// pass a JSON-encoded string on.
func (s *Server) openIterator(token string) (iterator, error) {
	if len(token) >= 2 && token[0] == '"' && token[len(token)-1] == '"' {
		token = token[1 : len(token)-1]
	}
	var it iterator
	err := s.tokens.iterators.open(token, func(body []byte) error {
		var err error
		it, err = parseIteratorBody(body)
		return err
	})
	if err != nil {
		return iterator{}, errBadIterator
	}
	return it, nil
}

var errShort = errors.New("server: iterator body malformed")

// parseIteratorBody decodes the sealed body of a token.
func parseIteratorBody(b []byte) (iterator, error) {
	if len(b) < iteratorFixed || b[0] != iteratorVersion {
		return iterator{}, errShort
	}
	it := iterator{
		issuedMs:     int64(binary.BigEndian.Uint64(b[1:])),
		shardEpochMs: int64(binary.BigEndian.Uint64(b[9:])),
		pos:          binary.BigEndian.Uint64(b[17:]),
	}
	rest := b[25:]
	n := int(rest[0])
	if len(rest) < 1+n+1 {
		return iterator{}, errShort
	}
	it.stream = string(rest[1 : 1+n])
	rest = rest[1+n:]
	m := int(rest[0])
	if len(rest) != 1+m {
		return iterator{}, errShort
	}
	it.shardID = string(rest[1:])
	return it, nil
}
