package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Sealed tokens. Every token shardlog hands out that carries a position or
// names a stream (shard iterators and the NextTokens of ListShards,
// ListStreamConsumers and ListStreams) is sealed: encrypted and
// authenticated with AES-256-GCM under a key derived from the store's
// secret and the token's purpose, so that a client can neither read nor
// forge one, and a token of one kind (or of another data directory) does
// not open as another. On the wire a token is unpadded URL-safe base64
// (RFC 4648 §5) of:
//
//	offset  size  field
//	0       12    nonce, random per token
//	12      n     the body, encrypted (its layout belongs to the token kind)
//	12+n    16    GCM tag
//
// A random 96-bit nonce bounds a key to 2^32 tokens (NIST SP 800-38D); see
// newSealer for what that means here.

// tokenEncoding spells tokens: unpadded URL-safe base64, strict so that a
// sealed token has one spelling only (no stray low bits in its last
// character).
var tokenEncoding = base64.RawURLEncoding.Strict()

// Token purposes: each kind of token is sealed under its own key.
const (
	PurposeIterator      = "shardlog sealed token v1: shard iterator"
	PurposeShardsToken   = "shardlog sealed token v1: ListShards NextToken"
	PurposeConsumerToken = "shardlog sealed token v1: ListStreamConsumers NextToken"
	PurposeStreamsToken  = "shardlog sealed token v1: ListStreams NextToken"
)

const (
	// SealOverhead is what sealing adds to a body: nonce and tag.
	SealOverhead = 12 + 16
	// MaxTokenBody is the largest body of a NextToken, in bytes.
	MaxTokenBody = 1024
)

// ErrUnsealed is returned for any token that does not open: malformed,
// truncated, tampered with, sealed under another key or of another kind.
// Operations answer it with their own InvalidArgumentException.
var ErrUnsealed = errors.New("wire: token does not open")

// Tokens are the sealers of one data directory, one per kind of token. It
// is safe for concurrent use.
type Tokens struct {
	Iterators *Sealer // shard iterators (AppendIterator, OpenIterator)
	Shards    *Sealer // ListShards NextTokens
	Consumers *Sealer // ListStreamConsumers NextTokens
	Streams   *Sealer // ListStreams NextTokens
}

// NewTokens returns the sealers of tokens under keys derived from secret
// (the store's), so that tokens survive restarts of the same data
// directory.
func NewTokens(secret []byte) Tokens {
	return Tokens{
		Iterators: NewSealer(secret, PurposeIterator, MaxIteratorBody),
		Shards:    NewSealer(secret, PurposeShardsToken, MaxTokenBody),
		Consumers: NewSealer(secret, PurposeConsumerToken, MaxTokenBody),
		Streams:   NewSealer(secret, PurposeStreamsToken, MaxTokenBody),
	}
}

// Sealer seals and opens the tokens of one purpose. It is safe for
// concurrent use: the AEAD is shared (crypto/cipher's GCM is stateless
// after construction) and scratch buffers are pooled, so a token costs no
// allocation beyond its encoding.
type Sealer struct {
	aead    cipher.AEAD
	maxBody int       // bytes; longer bodies are refused when sealing and opening
	scratch sync.Pool // *[]byte of cap 2*maxBody+sealOverhead
}

// NewSealer returns a sealer for purpose under a key derived from secret,
// for bodies of at most maxBody bytes.
//
// A key is bound to its data directory and lives as long as it, so a very
// long-lived, very busy daemon could in principle seal more than 2^32
// iterators under one key, past which random 96-bit nonces collide with
// more than negligible probability. A collision lets someone holding both
// tokens learn the XOR of their bodies and, with effort, forge tokens of
// that purpose; they would have to hold ~2^48 tokens to expect one.
func NewSealer(secret []byte, purpose string, maxBody int) *Sealer {
	block, err := aes.NewCipher(DeriveKey(secret, purpose))
	if err != nil {
		panic("BUG: AES rejects a 32-byte key: " + err.Error())
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("BUG: GCM over AES: " + err.Error())
	}
	if aead.Overhead() != SealOverhead {
		panic("BUG: GCM overhead is not nonce + tag")
	}
	sl := &Sealer{aead: aead, maxBody: maxBody}
	sl.scratch.New = func() any {
		b := make([]byte, 0, 2*maxBody+SealOverhead)
		return &b
	}
	return sl
}

// MaxTokenChars is the length of the longest token the sealer makes.
func (sl *Sealer) MaxTokenChars() int {
	return tokenEncoding.EncodedLen(sl.maxBody + SealOverhead)
}

// Seal appends to dst the token of the body build appends to its
// argument, an empty slice with room for maxBody bytes. The body must not
// exceed maxBody: the callers bound what they put in it.
func (sl *Sealer) Seal(dst []byte, build func(body []byte) []byte) []byte {
	p := sl.scratch.Get().(*[]byte)
	// The body goes in the front half of the scratch buffer, the sealed
	// bytes in the back half: GCM with a random nonce cannot seal in place.
	front, back := (*p)[:0:sl.maxBody], (*p)[sl.maxBody:sl.maxBody]
	body := build(front)
	if len(body) > sl.maxBody {
		panic("BUG: token body too long")
	}
	dst = tokenEncoding.AppendEncode(dst, sl.aead.Seal(back, nil, body, nil))
	sl.scratch.Put(p)
	return dst
}

// Open opens token and passes its body to parse, whose error it returns.
// body is only valid during parse. A token that does not open is
// errUnsealed, and parse is not called: a body reaching parse was sealed
// by this sealer.
func (sl *Sealer) Open(token string, parse func(body []byte) error) error {
	if len(token) > sl.MaxTokenChars() || len(token) < tokenEncoding.EncodedLen(SealOverhead) {
		return ErrUnsealed
	}
	p := sl.scratch.Get().(*[]byte)
	defer sl.scratch.Put(p)
	raw, err := tokenEncoding.AppendDecode((*p)[:0], []byte(token))
	if err != nil {
		return ErrUnsealed
	}
	body, err := sl.aead.Open(raw[:0], nil, raw, nil)
	if err != nil {
		return ErrUnsealed
	}
	return parse(body)
}

// SealJSON returns the token of v's JSON encoding.
func (sl *Sealer) SealJSON(v any) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal token: %w", err)
	}
	return string(sl.Seal(nil, func(b []byte) []byte { return append(b, body...) })), nil
}

// OpenJSON opens token and decodes its JSON body into v. A token that
// does not open or does not decode is errUnsealed.
func (sl *Sealer) OpenJSON(token string, v any) error {
	return sl.Open(token, func(body []byte) error {
		if json.Unmarshal(body, v) != nil {
			return ErrUnsealed
		}
		return nil
	})
}

// ClipToken is token as error messages quote it: at most 100 bytes of it,
// so that a message never echoes a long client-supplied value.
func ClipToken(token string) string {
	const maxQuoted = 100
	if len(token) <= maxQuoted {
		return token
	}
	return token[:maxQuoted] + "..."
}

// Opened memoizes opening one token of a request, so that authorization
// (which needs the stream the token names) and the operation open it once
// between them. The zero value has opened nothing; request structs are
// zeroed before reuse, which resets it.
type Opened[T any] struct {
	done bool
	val  T
	err  error
}

// Get returns the result of open, calling it on the first get only.
func (o *Opened[T]) Get(open func() (T, error)) (T, error) {
	if !o.done {
		o.val, o.err = open()
		o.done = true
	}
	return o.val, o.err
}

// DeriveKey returns HMAC-SHA256(secret, purpose), a key for one purpose.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
