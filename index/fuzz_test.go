package index

import (
	"encoding/binary"
	"path/filepath"
	"testing"
)

// FuzzIndexLookup builds an index from the fuzzer's entries (skipping those
// Append refuses) and checks LookupSeq and LookupTime against a linear scan.
func FuzzIndexLookup(f *testing.F) {
	f.Add([]byte{}, uint64(0), int64(0))
	f.Add(entriesBytes(Entry{1, 10, 1}, Entry{5, 20, 1}, Entry{9, 30, 7}), uint64(5), int64(2))
	f.Add(entriesBytes(Entry{1, 10, 1}, Entry{1, 20, 1}, Entry{9, 30, 0}), uint64(1<<63), int64(-1))
	f.Fuzz(func(t *testing.T, raw []byte, seq uint64, ms int64) {
		x, err := Open(filepath.Join(t.TempDir(), "f.idx"), 64)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		var oracle []Entry
		for len(raw) >= EntrySize && len(oracle) < 64 {
			e := Entry{
				Seq:    binary.LittleEndian.Uint64(raw[0:]),
				Off:    binary.LittleEndian.Uint64(raw[8:]),
				TimeMs: int64(binary.LittleEndian.Uint64(raw[16:])),
			}
			raw = raw[EntrySize:]
			if x.Append(e) == nil {
				oracle = append(oracle, e)
			}
		}
		var wantSeq, wantTime Entry
		var okSeq, okTime bool
		for _, e := range oracle {
			if e.Seq <= seq {
				wantSeq, okSeq = e, true
			}
			if e.TimeMs < ms {
				wantTime, okTime = e, true
			}
		}
		if got, ok := x.LookupSeq(seq); ok != okSeq || got != wantSeq {
			t.Fatalf("LookupSeq(%d) = %+v, %v; oracle %+v, %v", seq, got, ok, wantSeq, okSeq)
		}
		if got, ok := x.LookupTime(ms); ok != okTime || got != wantTime {
			t.Fatalf("LookupTime(%d) = %+v, %v; oracle %+v, %v", ms, got, ok, wantTime, okTime)
		}
	})
}

func entriesBytes(es ...Entry) []byte {
	b := make([]byte, len(es)*EntrySize)
	for i, e := range es {
		putEntry(b[i*EntrySize:], e)
	}
	return b
}
