package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

const (
	headerSize    = 64
	formatVersion = 1
	magic         = "SHLGSEG\x00"

	// flagCompressed marks a compressed file: blocks instead of frames.
	flagCompressed uint32 = 1 << 0
	knownFlags            = flagCompressed
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded file header; see doc.go for the byte layout.
type header struct {
	flags     uint32
	base      uint64
	createdNs int64
	codec     Compression
	// nextSeq is, in a compressed file, its last seq + 1; in a plain file,
	// the reservation: no position at or above it has been handed out
	// while the file was active (0: unknown, a file of an older build).
	nextSeq uint64
	// lastMs is the newest record's arrival time: written when a plain
	// file is sealed, always present in a compressed one; 0 when unknown.
	lastMs int64
}

func (h *header) put(b []byte) {
	clear(b[:headerSize])
	copy(b[0:8], magic)
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint32(b[12:], h.flags)
	binary.LittleEndian.PutUint64(b[16:], h.base)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.createdNs))
	b[32] = byte(h.codec)
	binary.LittleEndian.PutUint64(b[40:], h.nextSeq)
	binary.LittleEndian.PutUint64(b[48:], uint64(h.lastMs))
	putHeaderCRC(b)
}

func putHeaderCRC(b []byte) {
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
}

// parseHeader decodes and checks a header for a file expected to hold base.
func parseHeader(b []byte, base uint64) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, fmt.Errorf("%w: %d bytes", ErrBadHeader, len(b))
	}
	if string(b[0:8]) != magic {
		return h, fmt.Errorf("%w: magic %q", ErrBadHeader, b[0:8])
	}
	if got, want := binary.LittleEndian.Uint32(b[60:]), crc32.Checksum(b[:60], castagnoli); got != want {
		return h, fmt.Errorf("%w: checksum %#x, want %#x", ErrBadHeader, got, want)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return h, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, v, formatVersion)
	}
	h.flags = binary.LittleEndian.Uint32(b[12:])
	if unknown := h.flags &^ knownFlags; unknown != 0 {
		return h, fmt.Errorf("%w: unknown feature flags %#x", ErrVersion, unknown)
	}
	h.base = binary.LittleEndian.Uint64(b[16:])
	if h.base != base {
		return h, fmt.Errorf("%w: base %d in a file named for %d", ErrBadHeader, h.base, base)
	}
	h.createdNs = int64(binary.LittleEndian.Uint64(b[24:]))
	h.codec = Compression(b[32])
	if compressed := h.flags&flagCompressed != 0; compressed != (h.codec != None) || h.codec > S2 {
		return h, fmt.Errorf("%w: codec %d with flags %#x", ErrVersion, h.codec, h.flags)
	}
	h.nextSeq = binary.LittleEndian.Uint64(b[40:])
	h.lastMs = int64(binary.LittleEndian.Uint64(b[48:]))
	return h, nil
}

func (h *header) created() time.Time { return time.Unix(0, h.createdNs) }

func isZero(b []byte) bool {
	var zeros [4096]byte
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
