package shard

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// benchStream opens a store in a temporary directory under policy, with
// no retention pass, and creates a stream of shards shards in it; the
// store closes when the benchmark ends.
func benchStream(b *testing.B, policy FsyncPolicy, shards int) *Stream {
	b.Helper()
	o := DefaultOptions(b.TempDir())
	o.Fsync = policy
	o.ExpireInterval = 1 << 62
	s, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	st, err := s.CreateStream(StreamConfig{Name: "bench", ShardCount: shards})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkStreamPut measures Stream.Put through routing, sequencing and
// the segment append: 500-record batches on one shard with FsyncNever (the
// page-cache path every policy shares) and FsyncAlways, and a batch of 100
// B records with 500 partition keys over 4 shards (FsyncNever), which adds
// grouping by shard and one append per shard, as a PutRecords does.
func BenchmarkStreamPut(b *testing.B) {
	type run struct {
		policy FsyncPolicy
		size   int
		shards int
	}
	var runs []run
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncAlways} {
		for _, size := range []int{100, 1024, 64 << 10} {
			runs = append(runs, run{policy, size, 1})
		}
	}
	runs = append(runs, run{FsyncNever, 100, 4})
	for _, r := range runs {
		b.Run(fmt.Sprintf("fsync=%s/%dB/shards=%d", r.policy, r.size, r.shards), func(b *testing.B) {
			st := benchStream(b, r.policy, r.shards)
			batch := 500
			if r.size == 64<<10 {
				batch = 1 // the large-record case: one 64 KiB record per append
			}
			recs := make([]Record, batch)
			keys := make([]HashKey, batch)
			out := make([]PutResult, batch)
			data := make([]byte, r.size)
			for i := range recs {
				pk := []byte(fmt.Sprintf("pk-%d", i))
				keys[i] = HashPartitionKey(pk)
				recs[i] = Record{PartitionKey: pk}
			}
			b.SetBytes(int64(batch * r.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range recs {
					recs[j].Data = data
				}
				st.Put(recs, keys, out)
				if out[0].Err != nil {
					b.Fatal(out[0].Err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkShardRead measures sequential reads of 1 KiB records, 1000 per call.
func BenchmarkShardRead(b *testing.B) {
	st := benchStream(b, FsyncNever, 1)
	sh := st.Shards()[0]
	const total = 100_000
	recs := make([]Record, 1000)
	for i := 0; i < total; i += len(recs) {
		for j := range recs {
			recs[j] = Record{PartitionKey: []byte("k"), Data: make([]byte, 1024)}
		}
		if _, err := sh.Append(recs); err != nil {
			b.Fatal(err)
		}
	}
	var res ReadResult
	b.SetBytes(1000 * 1024)
	b.ReportAllocs()
	b.ResetTimer()
	pos := uint64(0)
	for i := 0; i < b.N; i++ {
		if err := sh.Read(pos, 1000, 10<<20, &res); err != nil {
			b.Fatal(err)
		}
		pos = res.Next % total
		res.Release()
	}
}

// BenchmarkFirstWrite measures the first append to a dormant shard after a
// restart, one shard per op: one never written, whose first segment the
// preparer created after CreateStream, so that the append loads it; the
// same with LazyFirstSegments, whose append creates the segment (build,
// fsync, rename, directory sync); and one written before the restart,
// whose append loads its segment. It reports the p99 of the single
// appends beside the mean.
func BenchmarkFirstWrite(b *testing.B) {
	for _, c := range []struct {
		name          string
		written, lazy bool
	}{{"never-written", false, false}, {"never-written-lazy", false, true}, {"written", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			written := c.written
			o := DefaultOptions(b.TempDir())
			o.ExpireInterval = 1 << 62
			o.LazyFirstSegments = c.lazy
			const perStream = 100
			s, err := Open(o)
			if err != nil {
				b.Fatal(err)
			}
			var names []string
			for i := 0; i*perStream < b.N; i++ {
				name := fmt.Sprintf("s%d", i)
				st, err := s.CreateStream(StreamConfig{Name: name, ShardCount: perStream})
				if err != nil {
					b.Fatal(err)
				}
				names = append(names, name)
				for _, sh := range st.Shards() {
					if written {
						if err := putOne(st, sh); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			if s.prep != nil {
				s.prep.wait()
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			if s, err = Open(o); err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var shards []*Shard
			var streams []*Stream
			for _, name := range names {
				st, err := s.Stream(name)
				if err != nil {
					b.Fatal(err)
				}
				for _, sh := range st.Shards() {
					shards, streams = append(shards, sh), append(streams, st)
				}
			}
			took := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				began := time.Now()
				if err := putOne(streams[i], shards[i]); err != nil {
					b.Fatal(err)
				}
				took[i] = time.Since(began)
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// putOne appends one 100-byte record to sh, routed by its starting hash
// key.
func putOne(st *Stream, sh *Shard) error {
	out := make([]PutResult, 1)
	st.Put([]Record{{PartitionKey: []byte("k"), Data: make([]byte, 100)}}, []HashKey{sh.HashRange().Start}, out)
	return out[0].Err
}
