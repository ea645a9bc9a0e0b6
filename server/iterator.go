package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// A shard iterator token is base64 (standard alphabet, padded) of:
//
//	offset  size  field
//	0       1     version (1)
//	1       8     issuedMs      when the token was made, ms since the epoch (big-endian)
//	9       8     shardEpochMs  creation time of the shard (tells a recreated stream's shard apart)
//	17      8     pos           position in the shard (shard seq)
//	25      1     n             length of the stream name
//	26      n     stream name
//	26+n    1     m             length of the shard id
//	27+n    m     shard id
//	27+n+m  32    HMAC-SHA256 of everything before it, under Server.iteratorKey
//
// The MAC makes tokens unforgeable and binds the position to its stream and
// shard; the key derives from the store's secret, so tokens outlive a
// restart of the same data directory and are worthless against another.
const (
	iteratorVersion  = 1
	iteratorFixed    = 1 + 8 + 8 + 8 + 1 + 1
	iteratorMACBytes = sha256.Size
	// maxIteratorChars is the ShardIterator length limit of the API.
	maxIteratorChars = 512
)

// iterator is a decoded shard iterator token.
type iterator struct {
	stream       string
	shardID      string
	shardEpochMs int64
	pos          uint64
	issuedMs     int64
}

// errBadIterator is the answer to any token that does not verify.
var errBadIterator = &APIError{Type: errInvalidArgument, Message: "Invalid ShardIterator."}

// macPool signs and verifies iterator tokens under one key, pooling the
// HMAC states. It is safe for concurrent use.
type macPool struct {
	pool sync.Pool
}

func newMACPool(key []byte) *macPool {
	return &macPool{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// sum appends the MAC of msg to dst.
func (p *macPool) sum(dst, msg []byte) []byte {
	m := p.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(msg)
	dst = m.Sum(dst)
	p.pool.Put(m)
	return dst
}

// appendIterator appends the base64 token of it to dst.
func (p *macPool) appendIterator(dst []byte, it iterator) []byte {
	if len(it.stream) > 255 || len(it.shardID) > 255 {
		panic("BUG: stream name or shard id too long for an iterator")
	}
	var raw [iteratorFixed + 255 + 255 + iteratorMACBytes]byte
	b := raw[:0]
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issuedMs))
	b = binary.BigEndian.AppendUint64(b, uint64(it.shardEpochMs))
	b = binary.BigEndian.AppendUint64(b, it.pos)
	b = append(b, byte(len(it.stream)))
	b = append(b, it.stream...)
	b = append(b, byte(len(it.shardID)))
	b = append(b, it.shardID...)
	b = p.sum(b, b)
	return base64.StdEncoding.AppendEncode(dst, b)
}

// decodeIterator verifies and decodes a token. Any malformed, truncated,
// tampered or foreign token is errBadIterator.
func (p *macPool) decodeIterator(token string) (iterator, error) {
	var raw [maxIteratorChars]byte
	if len(token) > maxIteratorChars || len(token)%4 != 0 {
		return iterator{}, errBadIterator
	}
	n, err := base64.StdEncoding.Decode(raw[:], []byte(token))
	if err != nil || n < iteratorFixed+iteratorMACBytes {
		return iterator{}, errBadIterator
	}
	b := raw[:n]
	body, mac := b[:n-iteratorMACBytes], b[n-iteratorMACBytes:]
	var want [iteratorMACBytes]byte
	if !hmac.Equal(mac, p.sum(want[:0], body)) {
		return iterator{}, errBadIterator
	}
	it, err := parseIteratorBody(body)
	if err != nil {
		return iterator{}, errBadIterator
	}
	return it, nil
}

var errShort = errors.New("server: iterator body malformed")

// parseIteratorBody decodes the signed part of a token.
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
