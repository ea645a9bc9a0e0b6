package wire

import (
	"sync"
	"unsafe"
)

// MaxPooledBuffer bounds pooled response buffers: a buffer grown past it (a
// GetRecords page near 10 MiB) is dropped rather than kept alive.
const MaxPooledBuffer = 16 << 20

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// GetBuffer returns a pooled, empty response buffer; give it back with
// PutBuffer.
func GetBuffer() *[]byte { return buffers.Get().(*[]byte) }

// PutBuffer returns b to the pool, keeping used (b's content, grown) as
// its backing array unless it grew past MaxPooledBuffer.
func PutBuffer(b *[]byte, used []byte) {
	if cap(used) > MaxPooledBuffer {
		return
	}
	*b = used[:0]
	buffers.Put(b)
}

// B2S views b as a string without copying; the string must not outlive b.
func B2S(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// S2B views s as bytes without copying; the bytes must not be written to
// and must not outlive s's backing memory.
func S2B(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
