package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func mustCodec(t *testing.T, size int) *codec {
	t.Helper()
	c, err := newCodec(size, 42)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// b64 returns the Data text of a record as a server would send it back.
func b64(raw []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(raw)) }

func TestCodecRoundTripAndPatch(t *testing.T) {
	for _, size := range []int{24, 25, 100, 1024} {
		c := mustCodec(t, size)
		raw := c.record(id(3, 77), 123456789, flagRetried, 5)
		if len(raw) != size {
			t.Fatalf("size %d: record is %d bytes", size, len(raw))
		}
		d, err := c.check(b64(raw))
		if err != nil || d.id != id(3, 77) || d.ts != 123456789 || d.flags != flagRetried {
			t.Fatalf("size %d: check = %+v, %v", size, d, err)
		}
		// A body patched in place carries the same text as encoding the record whole.
		b := encodeBody(c, "s", true, []string{"pk-1"}, []byte{5})
		c.patch(b.buf[b.hdrOff[0]:], id(3, 77), 123456789, flagRetried, 5)
		var req struct{ Records []struct{ Data []byte } }
		if err := json.Unmarshal(b.buf, &req); err != nil {
			t.Fatalf("size %d: body is not JSON: %v\n%s", size, err, b.buf)
		}
		if !bytes.Equal(req.Records[0].Data, raw) {
			t.Fatalf("size %d: patched body decodes to other bytes", size)
		}
	}
}

func TestCodecDetectsCorruption(t *testing.T) {
	c := mustCodec(t, 100)
	raw := c.record(id(1, 2), 99, 0, 7)
	f := func(name string, mutate func([]byte) []byte) {
		t.Helper()
		r := mutate(append([]byte(nil), raw...))
		if _, err := c.check(b64(r)); err == nil {
			t.Errorf("%s: corruption not detected", name)
		}
	}
	f("flip a filler bit", func(b []byte) []byte { b[60] ^= 1; return b })
	f("flip an id bit", func(b []byte) []byte { b[7] ^= 0x10; return b })
	f("flip a timestamp bit", func(b []byte) []byte { b[12] ^= 1; return b })
	f("flip the retried flag", func(b []byte) []byte { b[20] ^= flagRetried; return b })
	f("other variant's filler", func(b []byte) []byte { return append(b[:headerBytes], c.filler[3]...) })
	f("truncated", func(b []byte) []byte { return b[:99] })
	f("bad magic", func(b []byte) []byte { b[22] = 'X'; return b })
	if _, err := c.check([]byte(strings.Repeat("!", c.b64Len()))); err == nil {
		t.Error("non-base64 text accepted")
	}
}

func TestReconcile(t *testing.T) {
	c := mustCodec(t, 64)
	rec := func(w int, seq uint64, flags byte) decoded {
		d, err := c.check(b64(c.record(id(w, seq), 1, flags, 0)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	acked := make([]bitset, 2)
	for seq := range uint64(10) {
		acked[0].set(seq)
		acked[1].set(seq)
	}
	acked[1].set(200) // acknowledged, never read: missing (and grows the set past one word)

	a, b := newTally(2), newTally(2)
	for seq := range uint64(10) {
		if seq == 4 {
			continue // missing
		}
		a.add(rec(0, seq, 0), nil)
	}
	a.add(rec(0, 2, 0), nil)           // duplicate in the same shard
	a.add(rec(0, 12, 0), nil)          // read but not acknowledged
	b.add(rec(1, 5, 0), nil)           // worker 1 in shard b
	b.add(rec(1, 3, 0), nil)           // out of order
	b.add(rec(1, 1, flagRetried), nil) // resent: late is fine
	for _, s := range []uint64{0, 2, 4, 6, 7, 8, 9} {
		b.add(rec(1, s, 0), nil)
	}
	a.add(rec(1, 9, 0), nil) // the same record in two shards: duplicate
	_, err := c.check([]byte("garbage"))
	b.add(decoded{}, err)             // corrupt
	b.add(decoded{id: id(7, 1)}, nil) // unknown worker: corrupt
	b.add(rec(1, 0, 0), nil)          // duplicate, not out of order too
	got := reconcile(acked, []*tally{a, b})
	// Out of order, worker 1 in shard b: 3, 0, 2 and 4 after 5.
	want := Check{Acked: 21, Read: 25, Missing: 2, Duplicate: 3, Corrupt: 2, OutOfOrder: 4, Unacked: 1}
	got.FirstError = ""
	if got != want {
		t.Fatalf("reconcile:\n got %+v\nwant %+v", got, want)
	}
	if got.OK() {
		t.Fatal("a dirty account is OK")
	}
	if clean := (Check{Acked: 5, Read: 5, Unacked: 3}); !clean.OK() {
		t.Fatal("unacknowledged reads fail the check")
	}
}

func TestSummarize(t *testing.T) {
	h := newHist()
	for v := int64(1); v <= 10000; v++ { // 1 µs … 10 ms, uniform
		_ = h.RecordValue(v)
	}
	s := summarize(h)
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > want*0.002+0.001 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if s.Count != 10000 {
		t.Errorf("count %d", s.Count)
	}
	near("p50", s.P50, 5)
	near("p90", s.P90, 9)
	near("p99", s.P99, 9.9)
	near("p99.9", s.P999, 9.99)
	near("max", s.Max, 10)
	near("mean", s.Mean, 5.0005)
	if (summarize(newHist()) != Latency{}) {
		t.Error("empty histogram has a summary")
	}

	r := newRecorder()
	start := time.Unix(0, 0)
	sm := &sampler{r: r, start: start, last: start}
	r.records.Add(500)
	r.bytes.Add(50_000_000)
	r.latency(2 * time.Millisecond)
	p := sm.sample(start.Add(500 * time.Millisecond))
	if p.RecordsPerSec != 1000 || p.MBPerSec != 100 || p.P99Millis != 2 || p.T != 0.5 {
		t.Errorf("sample = %+v", p)
	}
	if p := sm.sample(start.Add(time.Second)); p.RecordsPerSec != 0 || p.P99Millis != 0 {
		t.Errorf("idle sample = %+v", p)
	}
}

func TestLoopbackGuard(t *testing.T) {
	f := func(endpoint string, allow, ok bool) {
		t.Helper()
		_, _, err := checkEndpoint(endpoint, allow)
		if (err == nil) != ok {
			t.Errorf("checkEndpoint(%q, %v) = %v, want ok=%v", endpoint, allow, err, ok)
		}
	}
	f("http://127.0.0.1:4567", false, true)
	f("http://127.8.9.10:4567", false, true)
	f("http://localhost:4567", false, true)
	f("http://[::1]:4567", false, true)
	f("https://localhost", false, true)
	f("http://10.0.0.1:4567", false, false)
	f("http://kinesis.us-east-1.amazonaws.com", false, false)
	f("http://127.0.0.1.example.com:80", false, false)
	f("http://10.0.0.1:4567", true, true)
	f("ftp://127.0.0.1", false, false)
	f("127.0.0.1:4567", false, false)
	if _, err := Run(t.Context(), Options{Endpoint: "http://192.0.2.1:4567"}); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("Run against a remote endpoint: %v", err)
	}
	if _, err := Run(t.Context(), Options{Workload: EFO, Consumers: 21}); err == nil || !strings.Contains(err.Error(), "consumers 21") {
		t.Errorf("efo with 21 consumers: %v", err)
	}
}

func TestScanners(t *testing.T) {
	body := []byte(`{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.7E9,"Data":"QUJD","PartitionKey":"a"},` +
		`{"PartitionKey":"b","Data" : "REVG"}],"NextShardIterator":"it/+=","MillisBehindLatest":12}`)
	var got []string
	eachData(body, func(b []byte) { got = append(got, string(b)) })
	if strings.Join(got, ",") != "QUJD,REVG" {
		t.Errorf("eachData = %v", got)
	}
	if v := jsonField(body, "NextShardIterator"); string(v) != "it/+=" {
		t.Errorf("NextShardIterator = %q", v)
	}
	if v := jsonField(body, "MillisBehindLatest"); string(v) != "12" {
		t.Errorf("MillisBehindLatest = %q", v)
	}
	if v := jsonField([]byte(`{"NextShardIterator":null}`), "NextShardIterator"); v != nil {
		t.Errorf("null = %q", v)
	}
	if e := apiError(400, []byte(`{"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"no"}`)); e.Type != "ResourceNotFoundException" {
		t.Errorf("apiError = %+v", e)
	}
}
