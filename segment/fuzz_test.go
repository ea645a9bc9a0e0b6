package segment

import (
	"bytes"
	"testing"
)

// FuzzFrameDecode feeds arbitrary bytes to the frame decoder (it must never
// panic, and whatever it accepts must re-encode to the same bytes) and
// round-trips a record built from the inputs.
func FuzzFrameDecode(f *testing.F) {
	var seed [256]byte
	n := putFrame(seed[:], &Record{Seq: 42, ArrivalMs: 7, PartitionKey: []byte("pk"), ExplicitHashKey: []byte("123"), Data: []byte("data")})
	f.Add(seed[:n], uint64(1), int64(2), []byte("k"), []byte(""), []byte("v"))
	f.Add([]byte{}, uint64(0), int64(-1), []byte{}, []byte("39"), []byte{})
	f.Add([]byte{32, 0, 0, 0}, uint64(1<<63), int64(1<<62), []byte("key"), []byte("1"), bytes.Repeat([]byte{0}, 100))
	f.Fuzz(func(t *testing.T, raw []byte, seq uint64, ms int64, pk, ehk, data []byte) {
		var r Record
		if size, _ := decodeFrame(raw, &r); size > 0 {
			buf := make([]byte, frameSize(&r))
			if m := putFrame(buf, &r); m != size || !bytes.Equal(buf, raw[:size]) {
				t.Fatalf("accepted frame does not re-encode to its bytes")
			}
		}
		if len(pk) > MaxPartitionKeyBytes || len(ehk) > MaxExplicitHashKeyBytes {
			return
		}
		if len(ehk) == 0 {
			ehk = nil
		}
		in := Record{Seq: seq, ArrivalMs: ms, PartitionKey: pk, ExplicitHashKey: ehk, Data: data}
		buf := make([]byte, frameSize(&in)+4) // + a zero end marker
		size := putFrame(buf, &in)
		var out Record
		if got, reason := decodeFrame(buf, &out); got != size || !sameRecord(in, out) {
			t.Fatalf("round trip: size %d of %d (%s), %+v != %+v", got, size, reason, out, in)
		}
		if got, reason := decodeFrame(buf[size:], &out); got != 0 || reason != "" {
			t.Fatalf("zero tail decoded as size %d, %q", got, reason)
		}
		for i := 0; i < size; i++ { // any truncation is refused
			if got, _ := decodeFrame(buf[:i], &out); got != 0 {
				t.Fatalf("truncated frame of %d bytes accepted", i)
			}
		}
	})
}
