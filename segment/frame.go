package segment

import (
	"encoding/binary"
	"hash/crc32"
	"math"
)

// Frame layout, little-endian (also in doc.go):
//
//	off  size  field
//	 0    4    size     uint32  whole frame in bytes, this word included; 0 = end of data
//	 4    4    crc      uint32  CRC-32C (Castagnoli) of bytes [8, size)
//	 8    8    seq      uint64
//	16    8    arrival  int64   Unix milliseconds
//	24    2    pkLen    uint16
//	26    1    ehkLen   uint8   0 when there is no explicit hash key
//	27    1    reserved 0
//	28    4    dataLen  uint32
//	32         partition key, explicit hash key, data
const (
	frameHeadSize = 32

	// MaxDataBytes is the largest record data Append accepts: 10 MiB.
	MaxDataBytes = 10 << 20
	// MaxPartitionKeyBytes is the largest partition key a frame can hold.
	MaxPartitionKeyBytes = math.MaxUint16
	// MaxExplicitHashKeyBytes is the largest explicit hash key a frame can
	// hold (Kinesis keys are decimal strings of at most 39 bytes).
	MaxExplicitHashKeyBytes = math.MaxUint8
	// MaxFrameBytes is the size of the largest frame Append can write.
	MaxFrameBytes = frameHeadSize + MaxPartitionKeyBytes + MaxExplicitHashKeyBytes + MaxDataBytes
)

// frameSize returns the encoded size of r; it does not check the limits.
func frameSize(r *Record) int64 {
	return frameHeadSize + int64(len(r.PartitionKey)) + int64(len(r.ExplicitHashKey)) + int64(len(r.Data))
}

// putFrame encodes r into b, which must have room for frameSize(r) bytes,
// and returns the frame size. The record bytes are copied exactly once.
func putFrame(b []byte, r *Record) int {
	pk, ehk := len(r.PartitionKey), len(r.ExplicitHashKey)
	size := frameHeadSize + pk + ehk + len(r.Data)
	b = b[:size:size]
	binary.LittleEndian.PutUint32(b[0:], uint32(size))
	binary.LittleEndian.PutUint64(b[8:], r.Seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(r.ArrivalMs))
	binary.LittleEndian.PutUint16(b[24:], uint16(pk))
	b[26] = byte(ehk)
	b[27] = 0
	binary.LittleEndian.PutUint32(b[28:], uint32(len(r.Data)))
	p := frameHeadSize
	p += copy(b[p:], r.PartitionKey)
	p += copy(b[p:], r.ExplicitHashKey)
	copy(b[p:], r.Data)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], castagnoli))
	return size
}

// frameAt returns the size of the frame at b[0:] without checking its CRC,
// or 0 with a reason when the lengths are impossible; size 0 with an empty
// reason is the end-of-data marker. Used to skip frames.
func frameAt(b []byte) (size int, reason string) {
	if len(b) < 4 {
		return 0, ""
	}
	size = int(binary.LittleEndian.Uint32(b))
	switch {
	case size == 0:
		return 0, ""
	case size < frameHeadSize:
		return 0, "frame shorter than its header"
	case size > len(b):
		return 0, "frame runs past the end of data"
	}
	pk := int(binary.LittleEndian.Uint16(b[24:]))
	ehk := int(b[26])
	data := int(binary.LittleEndian.Uint32(b[28:]))
	if frameHeadSize+pk+ehk+data != size {
		return 0, "field lengths do not add up to the frame size"
	}
	return size, ""
}

// decodeFrame decodes the frame at b[0:], checking its lengths and CRC. The
// record's slices alias b (with capacity clipped, so appending to them
// cannot overwrite the next frame). size 0 with an empty reason means end of
// data; a non-empty reason means the frame is corrupt or torn.
func decodeFrame(b []byte, r *Record) (size int, reason string) {
	size, reason = frameAt(b)
	if size == 0 {
		return 0, reason
	}
	b = b[:size:size]
	if binary.LittleEndian.Uint32(b[4:]) != crc32.Checksum(b[8:], castagnoli) {
		return 0, "crc mismatch"
	}
	pk := frameHeadSize + int(binary.LittleEndian.Uint16(b[24:]))
	ehk := pk + int(b[26])
	r.Seq = binary.LittleEndian.Uint64(b[8:])
	r.ArrivalMs = int64(binary.LittleEndian.Uint64(b[16:]))
	r.PartitionKey = b[frameHeadSize:pk:pk]
	r.ExplicitHashKey = nil
	if ehk > pk {
		r.ExplicitHashKey = b[pk:ehk:ehk]
	}
	r.Data = b[ehk:size:size]
	return size, ""
}

// frameSeq returns the seq of a frame that frameAt accepted.
func frameSeq(b []byte) uint64 { return binary.LittleEndian.Uint64(b[8:]) }
