package segment

import (
	"testing"
)

// roller appends to segments in a temporary directory and rolls to a new
// one when the current is full, so benchmarks measure the steady state
// including the cost of creating segments.
type roller struct {
	b    *testing.B
	dir  string
	opts Options
	s    *Segment
}

func newRoller(b *testing.B, opts Options) *roller {
	r := &roller{b: b, dir: b.TempDir(), opts: opts}
	r.s = mustCreate(b, r.dir, 0, r.opts)
	b.Cleanup(func() { r.s.Retire(true) })
	return r
}

func (r *roller) append(recs []Record) {
	for len(recs) > 0 {
		n, err := r.s.Append(recs)
		if err != nil {
			r.b.Fatal(err)
		}
		recs = recs[n:]
		if len(recs) > 0 {
			next := r.s.NextSeq()
			if err := r.s.Seal(); err != nil {
				r.b.Fatal(err)
			}
			r.s.Retire(true)
			r.s = mustCreate(r.b, r.dir, next, r.opts)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name        string
		batch, size int
	}{
		{"batch500x100B", 500, 100},
		{"batch500x1KiB", 500, 1 << 10},
		{"single64KiB", 1, 64 << 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := DefaultOptions()
			opts.Files = NewFiles(4)
			r := newRoller(b, opts)
			recs := make([]Record, bc.batch)
			data := make([]byte, bc.size)
			for i := range data {
				data[i] = byte(i)
			}
			for i := range recs {
				recs[i] = Record{PartitionKey: []byte("partition-key-0001"), Data: data}
			}
			b.SetBytes(int64(bc.batch * bc.size))
			b.ReportAllocs()
			seq := uint64(0)
			for b.Loop() {
				for i := range recs {
					recs[i].Seq = seq
					recs[i].ArrivalMs = int64(seq >> 10)
					seq++
				}
				r.append(recs)
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func BenchmarkReadSequential(b *testing.B) {
	s := mustCreate(b, b.TempDir(), 0, DefaultOptions())
	defer s.Close()
	data := make([]byte, 1<<10)
	var recs []Record
	for seq := uint64(0); ; seq++ {
		recs = append(recs[:0], Record{Seq: seq, PartitionKey: []byte("partition-key-0001"), Data: data})
		if n, err := s.Append(recs); err != nil {
			b.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	total := s.NextSeq()
	b.SetBytes(int64(total) * int64(len(data)))
	b.ReportAllocs()
	buf := make([]Record, 0, 1000)
	for b.Loop() {
		for seq := uint64(0); seq < total; seq += uint64(len(buf)) {
			var err error
			if buf, err = s.Read(seq, 1000, 0, buf[:0]); err != nil || len(buf) == 0 {
				b.Fatal(err)
			}
		}
	}
}
