package ops

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unicode/utf8"

	"github.com/shardlog/shardlog/server/wire"

	asmbase64 "github.com/segmentio/asm/base64"
)

var errSlowPath = errors.New("server: fall back to encoding/json")

// b64 decodes Data on the fast path with SIMD (segmentio/asm): 2x the
// standard library at 100 B, 6x at 1 KiB. It accepts and refuses exactly
// what encoding/base64's StdEncoding does on the inputs that reach it
// (FuzzPutRecordsDecode compares the fast path with encoding/json).
var b64 = asmbase64.StdEncoding

// DecodeJSON decodes {"StreamName":..,"StreamARN":..,"Records":[{"Data":..,
// "PartitionKey":..,"ExplicitHashKey":..}]} into three buffers, for the
// entries, the key strings and all data blobs, which a pooled input keeps
// from one request to the next (reset).
func (in *putRecordsInput) DecodeJSON(body []byte) error {
	d := scanner{b: body}
	if !d.consume('{') {
		return errSlowPath
	}
	if d.consume('}') {
		return d.end()
	}
	for {
		key, ok := d.str()
		if !ok || !d.consume(':') {
			return errSlowPath
		}
		switch key {
		case "StreamName":
			if !d.optStr(&in.StreamName) {
				return errSlowPath
			}
		case "StreamARN":
			if !d.optStr(&in.StreamARN) {
				return errSlowPath
			}
		case "Records":
			if !in.decodeRecords(&d) {
				return errSlowPath
			}
		default:
			return errSlowPath
		}
		if d.consume('}') {
			return d.end()
		}
		if !d.consume(',') {
			return errSlowPath
		}
	}
}

// decodeRecords decodes the Records array in one pass. Every decoded Data
// goes into one arena, sized up front for the most the rest of the body can
// decode to, so it is allocated at most once. It builds at most
// maxPutRecords+1 entries and only checks the syntax of the rest:
// validation refuses a longer list by its length alone, and a 15 MB body of
// "{}" would otherwise become five million entries.
func (in *putRecordsInput) decodeRecords(d *scanner) bool {
	if d.null() {
		in.Records = nil
		return true
	}
	if !d.consume('[') {
		return false
	}
	entries, keys, arena := in.entries[:0], in.keys[:0], in.arena[:0]
	if need := b64.DecodedLen(len(d.b) - d.i); cap(arena) < need {
		arena = make([]byte, 0, need)
	}
	if arena == nil {
		arena = []byte{} // "Data":"" decodes to an empty blob, not null
	}
	defer func() { in.entries, in.keys, in.arena = entries, keys, arena }()
	if !d.consume(']') {
		for {
			keep := len(entries) <= maxPutRecords
			var e putRecordsEntry
			var pk, ehk string
			if !d.entry(&e, &pk, &ehk, &arena, keep) {
				return false
			}
			if keep {
				entries = append(entries, e)
				keys = append(keys, pk, ehk)
			}
			if d.consume(']') {
				break
			}
			if !d.consume(',') {
				return false
			}
		}
	}
	// entry marks the keys it found with keyPresent; now that keys no
	// longer moves, point them at their strings.
	for i := range entries {
		if entries[i].PartitionKey != nil {
			entries[i].PartitionKey = &keys[2*i]
		}
		if entries[i].ExplicitHashKey != nil {
			entries[i].ExplicitHashKey = &keys[2*i+1]
		}
	}
	in.Records = entries
	if in.Records == nil {
		in.Records = []putRecordsEntry{} // an empty list, not null
	}
	return true
}

// keyPresent marks, while decodeRecords runs, a key that entry found.
var keyPresent = new(string)

// entry consumes one record object. When keep is set it decodes it into e:
// the keys into pk and ehk (marking them found in e with keyPresent) and
// the data onto the end of *arena, which has room for it. Otherwise it only
// checks the syntax, every string as strictly as str does, so that a body
// encoding/json would refuse goes to it.
func (d *scanner) entry(e *putRecordsEntry, pk, ehk *string, arena *[]byte, keep bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	seen := 0
	for {
		key, ok := d.str()
		if !ok || !d.consume(':') {
			return false
		}
		bit := 0
		switch key {
		case "Data":
			bit = 1
		case "PartitionKey":
			bit = 2
		case "ExplicitHashKey":
			bit = 4
		default:
			return false
		}
		if seen&bit != 0 {
			return false // duplicate keys: leave the last-wins rule to encoding/json
		}
		seen |= bit
		if !d.null() {
			var s string
			if bit == 1 && keep {
				s, ok = d.b64str() // decodeData checks what b64str lets through
			} else {
				s, ok = d.str()
			}
			if !ok {
				return false
			}
			if keep {
				switch bit {
				case 1:
					a := *arena
					at := len(a)
					var n int
					n, ok = decodeData(a[at:cap(a)], s)
					a = a[:at+n]
					e.Data = a[at:len(a):len(a)]
					*arena = a
					if !ok {
						return false
					}
				case 2:
					*pk, e.PartitionKey = s, keyPresent
				case 4:
					*ehk, e.ExplicitHashKey = s, keyPresent
				}
			}
		}
		if d.consume('}') {
			return true
		}
		if !d.consume(',') {
			return false
		}
	}
}

// scanner reads the restricted JSON the fast decoders accept.
type scanner struct {
	b []byte
	i int
}

func (d *scanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (d *scanner) consume(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// null consumes a JSON null.
func (d *scanner) null() bool {
	d.ws()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// str consumes a string without escapes or control characters, in valid
// UTF-8, and returns it aliasing the body.
func (d *scanner) str() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	ascii := true
	// Eight bytes at a time while none of them ends the string or needs a
	// look: a quote, a backslash, a control character or non-ASCII.
	for d.i+8 <= len(d.b) && plainWord(binary.LittleEndian.Uint64(d.b[d.i:])) {
		d.i += 8
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return wire.B2S(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		d.i++
	}
	return "", false
}

// plainWord reports whether none of the eight bytes of x is a quote, a
// backslash, below 0x20 or at or above 0x80 (the SWAR zero-byte test: a
// byte b of x is flagged by (b - k) & ^b & 0x80 when b < k, and equal to c
// when b ^ c is zero).
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) &^ x
	quote := x ^ '"'*ones
	slash := x ^ '\\'*ones
	return (below|(quote-ones)&^quote|(slash-ones)&^slash|x)&highs == 0
}

// b64str consumes a string that is to be base64-decoded, finding its end
// with one vectorised search instead of checking byte by byte: any escape,
// control character or non-ASCII byte inside is left for decodeData to
// refuse (then the request takes the slow path).
func (d *scanner) b64str() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	n := bytes.IndexByte(d.b[d.i:], '"')
	if n < 0 {
		return "", false
	}
	s := d.b[d.i : d.i+n]
	d.i += n + 1
	return wire.B2S(s), true
}

// decodeData decodes the base64 string s into dst, which has room for
// b64.DecodedLen(len(s)) bytes, and reports whether s is a JSON string
// body encoding/json would have decoded to the same bytes. The decoder
// refuses every byte outside the alphabet but '\r' and '\n', which it
// skips and JSON forbids raw; skipping them shows in the length: a padded
// encoding is whole quanta of 4, so an input of a length that is a multiple
// of 4 decodes with k of them skipped only if k is a multiple of 4 too, and
// then yields at most len(s)/4*3-3 bytes, where a clean input yields at
// least len(s)/4*3-2. That replaces two more passes over every Data string.
func decodeData(dst []byte, s string) (int, bool) {
	n, err := b64.Decode(dst, wire.S2B(s))
	return n, err == nil && len(s)%4 == 0 && n >= len(s)/4*3-2
}

// optStr decodes a string or null into *p.
func (d *scanner) optStr(p **string) bool {
	if d.null() {
		*p = nil
		return true
	}
	s, ok := d.str()
	if ok {
		*p = &s
	}
	return ok
}

// optStrIn is optStr storing the string in slot.
func (d *scanner) optStrIn(p **string, slot *string) bool {
	if d.null() {
		*p = nil
		return true
	}
	s, ok := d.str()
	if ok {
		*slot = s
		*p = slot
	}
	return ok
}

// end checks nothing but white space follows.
func (d *scanner) end() error {
	d.ws()
	if d.i != len(d.b) {
		return errSlowPath
	}
	return nil
}

// DecodeJSON decodes the common PutRecord body ({"StreamName":..,
// "PartitionKey":..,"Data":..} and the optional members) without
// reflection: encoding/json was ~13% of the server's CPU under a PutRecord
// load. Anything unusual takes the slow path, as for PutRecords.
func (in *putRecordInput) DecodeJSON(body []byte) error {
	d := scanner{b: body}
	return d.object(func(key string) (int, bool) {
		switch key {
		case "StreamName":
			return 1, d.optStr(&in.StreamName)
		case "StreamARN":
			return 2, d.optStr(&in.StreamARN)
		case "PartitionKey":
			return 4, d.optStr(&in.PartitionKey)
		case "ExplicitHashKey":
			return 8, d.optStr(&in.ExplicitHashKey)
		case "SequenceNumberForOrdering":
			return 16, d.optStr(&in.SequenceNumberForOrdering)
		case "Data":
			return 32, d.optBlob(&in.Data)
		}
		return 0, false
	})
}

// object decodes a JSON object member by member: member is given each key
// once the colon is consumed, decodes the value, and returns the member's
// bit and whether the value was decoded. Any key member does not know
// (ok false), a member given twice or anything unusual sends the body to
// the slow path.
func (d *scanner) object(member func(key string) (bit int, ok bool)) error {
	if !d.consume('{') {
		return errSlowPath
	}
	if d.consume('}') {
		return d.end()
	}
	seen := 0
	for {
		key, ok := d.str()
		if !ok || !d.consume(':') {
			return errSlowPath
		}
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
			return errSlowPath // duplicate keys: leave the last-wins rule to encoding/json
		}
		seen |= bit
		if d.consume('}') {
			return d.end()
		}
		if !d.consume(',') {
			return errSlowPath
		}
	}
}

// optBlob consumes null (setting *p to nil) or a base64 string, which it
// decodes into a new slice.
func (d *scanner) optBlob(p *[]byte) bool {
	if d.null() {
		*p = nil
		return true
	}
	s, ok := d.b64str()
	if !ok {
		return false
	}
	data := make([]byte, b64.DecodedLen(len(s)))
	n, ok := decodeData(data, s)
	if !ok {
		return false
	}
	*p = data[:n:n]
	return true
}
