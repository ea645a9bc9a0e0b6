package ops

import (
	"slices"
	"unicode/utf8"

	"github.com/shardlog/shardlog/server/wire"
)

// cborScanner reads the subset of CBOR the fast decoders accept: heads of
// definite length, text strings of valid UTF-8, byte strings and null.
// Anything else (indefinite lengths, tags, other types, heads past the
// body) fails, and the decoder falls back to CBORDecMode, which decodes
// it or words the error.
type cborScanner struct {
	b []byte
	i int
}

// cborNull is the simple value null.
const cborNull = 0xf6

// head reads the head of an item of major type major and returns its
// argument.
func (d *cborScanner) head(major byte) (uint64, bool) {
	if d.i >= len(d.b) || d.b[d.i]&0xe0 != major {
		return 0, false
	}
	info := d.b[d.i] & 0x1f
	d.i++
	var size int
	switch {
	case info < 24:
		return uint64(info), true
	case info == 24:
		size = 1
	case info == 25:
		size = 2
	case info == 26:
		size = 4
	case info == 27:
		size = 8
	default:
		return 0, false // reserved, or an indefinite length
	}
	if len(d.b)-d.i < size {
		return 0, false
	}
	var n uint64
	for _, c := range d.b[d.i : d.i+size] {
		n = n<<8 | uint64(c)
	}
	d.i += size
	return n, true
}

// bytes reads a string item of major type major (CBORText or CBORBytes)
// and returns its content, which aliases the body.
func (d *cborScanner) bytes(major byte) ([]byte, bool) {
	n, ok := d.head(major)
	if !ok || n > uint64(len(d.b)-d.i) {
		return nil, false
	}
	s := d.b[d.i : d.i+int(n) : d.i+int(n)]
	d.i += int(n)
	return s, major != wire.CBORText || utf8.Valid(s)
}

// name reads a member name. It is compared with ASCII names, so a name
// that is not valid UTF-8 matches none and needs no check of its own.
func (d *cborScanner) name() (string, bool) {
	n, ok := d.head(wire.CBORText)
	if !ok || n > uint64(len(d.b)-d.i) {
		return "", false
	}
	s := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return wire.B2S(s), true
}

// null consumes a null and reports whether there was one.
func (d *cborScanner) null() bool {
	if d.i < len(d.b) && d.b[d.i] == cborNull {
		d.i++
		return true
	}
	return false
}

// optText reads a text string or null into *p, storing the string in slot.
func (d *cborScanner) optText(p **string, slot *string) bool {
	if d.null() {
		*p = nil
		return true
	}
	s, ok := d.bytes(wire.CBORText)
	if ok {
		*slot = wire.B2S(s)
		*p = slot
	}
	return ok
}

// object decodes a map member by member, as scanner.object does a JSON
// object: member is given each name, decodes the value, and returns the
// member's bit and whether the value was decoded. A name member does not
// know (ok false) or a member given twice fails, leaving the rule to
// CBORDecMode.
func (d *cborScanner) object(member func(name string) (bit int, ok bool)) bool {
	members, ok := d.head(wire.CBORMap)
	if !ok {
		return false
	}
	seen := 0
	for ; members > 0; members-- {
		name, ok := d.name()
		if !ok {
			return false
		}
		bit, ok := member(name)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return true
}

// DecodeCBOR decodes a PutRecords request as the Java SDK sends it without
// reflection: a map of StreamName, StreamARN and Records, each record a map
// of Data, PartitionKey and ExplicitHashKey, every member named exactly and
// at most once. Data and the strings alias body. Anything else returns
// errSlowPath, for CBORDecMode. Like DecodeJSON it builds at most
// maxPutRecords+1 entries, which validation refuses by their number.
func (in *putRecordsInput) DecodeCBOR(body []byte) error {
	d := cborScanner{b: body}
	in.keys = slices.Grow(in.keys[:0], 2)[:2] // the stream name and ARN, then two keys a record
	ok := d.object(func(name string) (int, bool) {
		switch name {
		case "StreamName":
			return 1, d.optText(&in.StreamName, &in.keys[0])
		case "StreamARN":
			return 2, d.optText(&in.StreamARN, &in.keys[1])
		case "Records":
			return 4, in.decodeCBORRecords(&d)
		}
		return 0, false
	})
	if !ok || d.i != len(body) {
		return errSlowPath
	}
	return nil
}

// decodeCBORRecords decodes the Records array.
func (in *putRecordsInput) decodeCBORRecords(d *cborScanner) bool {
	if d.null() {
		in.Records = nil
		return true
	}
	count, ok := d.head(wire.CBORArray)
	if !ok || count > uint64(len(d.b)-d.i) { // each record takes a byte at least
		return false
	}
	n := int(min(count, maxPutRecords+1))
	// The buffers come cleared from reset (or new).
	in.entries = slices.Grow(in.entries[:0], n)[:n]
	in.Records = in.entries
	if in.Records == nil {
		in.Records = []putRecordsEntry{} // an empty list, not null
	}
	in.keys = slices.Grow(in.keys, 2*n)[:2+2*n]
	var extra putRecordsEntry // the records past those built
	var extraKeys [2]string
	for i := range int(count) {
		r, keys := &extra, extraKeys[:]
		if i < n {
			r, keys = &in.Records[i], in.keys[2+2*i:]
		}
		ok := d.object(func(name string) (int, bool) {
			switch name {
			case "Data":
				if d.null() {
					r.Data = nil
					return 1, true
				}
				var ok bool
				r.Data, ok = d.bytes(wire.CBORBytes)
				return 1, ok
			case "PartitionKey":
				return 2, d.optText(&r.PartitionKey, &keys[0])
			case "ExplicitHashKey":
				return 4, d.optText(&r.ExplicitHashKey, &keys[1])
			}
			return 0, false
		})
		if !ok {
			return false
		}
	}
	return true
}
