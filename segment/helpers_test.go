package segment

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testOptions returns small segments that log through the test.
func testOptions(t testing.TB) Options {
	o := DefaultOptions()
	o.MaxSegmentBytes = 1 << 20
	o.IndexIntervalBytes = 512
	o.InitialBytes = 64 << 10 // files grow several times before they fill
	o.Files = NewFiles(4)
	o.Logger = zerolog.New(zerolog.NewTestWriter(t))
	return o
}

func mustCreate(t testing.TB, dir string, base uint64, o Options) *Segment {
	t.Helper()
	s, err := Create(dir, base, base, o)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

func mustOpen(t testing.TB, dir string, base uint64, active bool, o Options) *Segment {
	t.Helper()
	s, err := Open(dir, base, active, o)
	if err != nil {
		t.Fatalf("Open(active=%v): %v", active, err)
	}
	return s
}

// record returns a deterministic record for seq, so readers can check
// contents from the seq alone.
func record(seq uint64, dataSize int) Record {
	data := make([]byte, dataSize)
	for i := range data {
		data[i] = byte(seq) + byte(i)
	}
	r := Record{Seq: seq, ArrivalMs: 1_700_000_000_000 + int64(seq/3), PartitionKey: []byte(fmt.Sprintf("pk-%d", seq%10)), Data: data}
	if seq%4 == 0 {
		r.ExplicitHashKey = []byte(fmt.Sprint(seq * 12345))
	}
	return r
}

func records(first uint64, n, dataSize int) []Record {
	rs := make([]Record, n)
	for i := range rs {
		rs[i] = record(first+uint64(i), dataSize)
	}
	return rs
}

func mustAppend(t testing.TB, s *Segment, rs []Record) {
	t.Helper()
	n, err := s.Append(rs)
	if err != nil || n != len(rs) {
		t.Fatalf("Append(%d records) = %d, %v", len(rs), n, err)
	}
}

func sameRecord(a, b Record) bool {
	return a.Seq == b.Seq && a.ArrivalMs == b.ArrivalMs && bytes.Equal(a.PartitionKey, b.PartitionKey) &&
		bytes.Equal(a.ExplicitHashKey, b.ExplicitHashKey) && (a.ExplicitHashKey == nil) == (b.ExplicitHashKey == nil) &&
		bytes.Equal(a.Data, b.Data)
}

// checkAll reads the whole segment and compares it with want.
func checkAll(t testing.TB, s *Segment, want []Record) {
	t.Helper()
	got, err := s.Read(0, 0, 0, nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRecord(got[i], want[i]) {
			t.Fatalf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	wantNext := s.Base()
	if len(want) > 0 {
		wantNext = want[len(want)-1].Seq + 1
	}
	if s.NextSeq() != wantNext {
		t.Fatalf("NextSeq = %d, want %d", s.NextSeq(), wantNext)
	}
}

// crash drops a segment's handles the way kill -9 does: unmap and close,
// no msync, no seal, no trim.
func crash(s *Segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.cur.Swap(nil); v != nil {
		_ = v.close()
	}
	s.closed.Store(true)
}

// faults fails the named ops with an error until cleared.
type faults struct {
	mu   sync.Mutex
	fail map[string]error
}

func (f *faults) set(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]error{}
	}
	f.fail[op] = err
}

func (f *faults) Fault(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[op]
}

var fixedClock = func() time.Time { return time.Unix(1_700_000_000, 0) }
