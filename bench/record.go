package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
)

const (
	headerBytes   = 24 // record header, see doc.go
	headerB64     = 32 // base64 characters of the header
	flagRetried   = 1  // header flags: the record was resent after a throttle
	fillerVariant = 16 // distinct fillers per run
	workerShift   = 48 // id = worker << workerShift | sequence
	seqMask       = 1<<workerShift - 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codec makes and checks records of one size. It is immutable after
// newCodec and safe for concurrent use.
type codec struct {
	size      int      // record bytes, header included
	filler    [][]byte // raw filler of each variant
	fillerB64 [][]byte // base64 of each filler (its padding included)
	fillerCRC []uint32 // CRC-32C of each filler
}

// newCodec returns a codec for records of size bytes, at least headerBytes.
func newCodec(size int, seed uint64) (*codec, error) {
	if size < headerBytes {
		return nil, fmt.Errorf("bench: record size %d is below the %d-byte header", size, headerBytes)
	}
	c := &codec{size: size}
	rnd := rand.New(rand.NewPCG(seed, 0x5b))
	for range fillerVariant {
		f := make([]byte, size-headerBytes)
		for i := range f {
			f[i] = byte(rnd.Uint32())
		}
		b := make([]byte, base64.StdEncoding.EncodedLen(len(f)))
		base64.StdEncoding.Encode(b, f)
		c.filler = append(c.filler, f)
		c.fillerB64 = append(c.fillerB64, b)
		c.fillerCRC = append(c.fillerCRC, crc32.Checksum(f, castagnoli))
	}
	return c, nil
}

// b64Len is the length of a record's Data in base64.
func (c *codec) b64Len() int { return headerB64 + len(c.fillerB64[0]) }

// header fills h with the header of a record.
func (c *codec) header(h *[headerBytes]byte, id uint64, ts int64, flags, variant byte) {
	binary.BigEndian.PutUint64(h[0:8], id)
	binary.BigEndian.PutUint64(h[8:16], uint64(ts))
	h[20], h[21], h[22], h[23] = flags, variant, 'S', 'B'
	sum := crc32.Update(crc32.Checksum(h[0:16], castagnoli), castagnoli, h[20:24])
	binary.BigEndian.PutUint32(h[16:20], sum^c.fillerCRC[variant])
}

// patch writes the base64 header of a record into dst[:headerB64].
func (c *codec) patch(dst []byte, id uint64, ts int64, flags, variant byte) {
	var h [headerBytes]byte
	c.header(&h, id, ts, flags, variant)
	base64.StdEncoding.Encode(dst[:headerB64], h[:])
}

// record returns the raw bytes of a record (for tests and slow paths).
func (c *codec) record(id uint64, ts int64, flags, variant byte) []byte {
	var h [headerBytes]byte
	c.header(&h, id, ts, flags, variant)
	return append(h[:], c.filler[variant]...)
}

// decoded is what a reader learns from a record.
type decoded struct {
	id    uint64
	ts    int64 // Unix nanoseconds
	flags byte
}

// check verifies the base64 Data text of a record and returns its fields, or
// an error saying why it is corrupt.
func (c *codec) check(text []byte) (decoded, error) {
	if len(text) != c.b64Len() {
		return decoded{}, fmt.Errorf("data is %d base64 characters, want %d", len(text), c.b64Len())
	}
	var h [headerBytes]byte
	if n, err := base64.StdEncoding.Decode(h[:], text[:headerB64]); err != nil || n != headerBytes {
		return decoded{}, fmt.Errorf("header is not base64")
	}
	if h[22] != 'S' || h[23] != 'B' || int(h[21]) >= fillerVariant {
		return decoded{}, fmt.Errorf("bad magic or variant")
	}
	fcrc := c.fillerCRC[h[21]]
	if !bytes.Equal(text[headerB64:], c.fillerB64[h[21]]) {
		raw := make([]byte, len(c.filler[0]))
		n, err := base64.StdEncoding.Decode(raw, text[headerB64:])
		if err != nil || n != len(raw) {
			return decoded{}, fmt.Errorf("filler is not base64")
		}
		fcrc = crc32.Checksum(raw, castagnoli)
	}
	sum := crc32.Update(crc32.Checksum(h[0:16], castagnoli), castagnoli, h[20:24]) ^ fcrc
	if sum != binary.BigEndian.Uint32(h[16:20]) {
		return decoded{}, fmt.Errorf("checksum mismatch")
	}
	return decoded{
		id:    binary.BigEndian.Uint64(h[0:8]),
		ts:    int64(binary.BigEndian.Uint64(h[8:16])),
		flags: h[20],
	}, nil
}
