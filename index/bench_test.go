package index

import (
	"path/filepath"
	"testing"
)

func BenchmarkLookupSeq(b *testing.B) {
	const n = 16384 // a 64 MiB segment indexed every 4 KiB
	x, err := Open(filepath.Join(b.TempDir(), "b.idx"), n)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for i := 0; i < n; i++ {
		if err := x.Append(Entry{Seq: uint64(i) * 40, Off: uint64(i+1) * 4096, TimeMs: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(EntrySize)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := x.LookupSeq(uint64(i*7919) % (n * 40)); !ok {
			b.Fatal("not found")
		}
	}
}
