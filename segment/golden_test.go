package segment

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const goldenBase = 7

// goldenRecords are the records of testdata/golden, a sealed format v1
// segment: with and without explicit hash keys, empty data, a repeated
// arrival time, and enough bytes for three index entries.
func goldenRecords() []Record {
	return []Record{
		{Seq: 7, ArrivalMs: 1_700_000_000_000, PartitionKey: []byte("alpha"), Data: []byte(`{"name":"Alice","age":34}`)},
		{Seq: 8, ArrivalMs: 1_700_000_000_000, PartitionKey: []byte("beta"), ExplicitHashKey: []byte("340282366920938463463374607431768211455"), Data: []byte("hello")},
		{Seq: 10, ArrivalMs: 1_700_000_000_005, PartitionKey: []byte("g"), Data: []byte{}},
		{Seq: 11, ArrivalMs: 1_700_000_000_009, PartitionKey: []byte("delta"), Data: bytes.Repeat([]byte("0123456789abcdef"), 8)},
		{Seq: 12, ArrivalMs: 1_700_000_000_010, PartitionKey: []byte("epsilon"), ExplicitHashKey: []byte("0"), Data: []byte("last")},
	}
}

func goldenOptions(t *testing.T) Options {
	o := testOptions(t)
	o.MaxSegmentBytes = 4096
	o.IndexIntervalBytes = 64
	o.Now = fixedClock
	return o
}

// TestGolden opens the committed v1 segment and checks its records, then
// writes the same records afresh and compares the files byte for byte: any
// change of the format shows up here. Run with -update to accept a change
// deliberately (and bump formatVersion if old files can no longer be read).
func TestGolden(t *testing.T) {
	golden := filepath.Join("testdata", "golden")
	dir := t.TempDir()
	s := mustCreate(t, dir, goldenBase, goldenOptions(t))
	mustAppend(t, s, goldenRecords())
	must(t, s.Seal())
	must(t, s.Close())
	if *update {
		must(t, os.MkdirAll(golden, 0o755))
		for _, name := range []string{Name(goldenBase), IndexName(goldenBase)} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(golden, name), b, 0o644))
		}
	}
	for _, name := range []string{Name(goldenBase), IndexName(goldenBase)} {
		want, err := os.ReadFile(filepath.Join(golden, name))
		must(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/golden (%d vs %d bytes): the on-disk format changed", name, len(got), len(want))
		}
	}

	// Open a copy: Open(active=false) must not need to write, but work on a
	// copy so that a bug cannot damage the fixture.
	cp := t.TempDir()
	for _, name := range []string{Name(goldenBase), IndexName(goldenBase)} {
		b, err := os.ReadFile(filepath.Join(golden, name))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(cp, name), b, 0o644))
	}
	r := mustOpen(t, cp, goldenBase, false, goldenOptions(t))
	defer r.Close()
	checkAll(t, r, goldenRecords())
	if !r.CreatedAt().Equal(fixedClock()) || r.FirstTimeMs() != 1_700_000_000_000 || r.LastTimeMs() != 1_700_000_000_010 {
		t.Fatalf("created %v, times %d..%d", r.CreatedAt(), r.FirstTimeMs(), r.LastTimeMs())
	}
	if n := r.idxLen(); n != 3 {
		t.Fatalf("golden index has %d entries, want 3", n)
	}
}

// TestLegacyGolden opens the segment that builds before reservations and
// sealed arrival times wrote (the same records as testdata/golden, with
// bytes 40..56 of the header zero): it still reads, with no reservation
// and no recorded newest arrival, which its owner treats as unknown.
func TestLegacyGolden(t *testing.T) {
	cp := t.TempDir()
	for _, name := range []string{Name(goldenBase), IndexName(goldenBase)} {
		b, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(cp, name), b, 0o644))
	}
	info, err := Stat(cp, goldenBase)
	must(t, err)
	if info.LastMs != 0 || !info.Created.Equal(fixedClock()) {
		t.Fatalf("Stat of a legacy segment = %+v, want no newest arrival", info)
	}
	r := mustOpen(t, cp, goldenBase, false, goldenOptions(t))
	defer r.Close()
	checkAll(t, r, goldenRecords())
	if r.Reserved() != 0 || r.LastTimeMs() != 1_700_000_000_010 {
		t.Fatalf("legacy segment: reserved %d, last arrival %d", r.Reserved(), r.LastTimeMs())
	}
	info, err = Stat(filepath.Join("testdata", "golden"), goldenBase)
	must(t, err)
	if info.LastMs != 1_700_000_000_010 {
		t.Fatalf("Stat of a sealed segment: newest arrival %d, want 1700000000010", info.LastMs)
	}
}
