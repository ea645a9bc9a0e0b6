package shard

import (
	"fmt"
	"testing"
)

// BenchmarkStreamPut measures Stream.Put of 500-record batches on one shard
// through routing, sequencing and the segment append, with FsyncNever (the
// page-cache path every policy shares) and FsyncAlways.
func BenchmarkStreamPut(b *testing.B) {
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncAlways} {
		for _, size := range []int{100, 1024, 64 << 10} {
			b.Run(fmt.Sprintf("fsync=%s/%dB", policy, size), func(b *testing.B) {
				o := DefaultOptions(b.TempDir())
				o.Fsync = policy
				o.ExpireInterval = 1 << 62
				s, err := Open(o)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				st, err := s.CreateStream(StreamConfig{Name: "bench", ShardCount: 1})
				if err != nil {
					b.Fatal(err)
				}
				batch := 500
				if size == 64<<10 {
					batch = 1 // the large-record case: one 64 KiB record per append
				}
				recs := make([]Record, batch)
				keys := make([]HashKey, batch)
				out := make([]PutResult, batch)
				data := make([]byte, size)
				for i := range recs {
					pk := []byte(fmt.Sprintf("pk-%d", i))
					keys[i] = HashPartitionKey(pk)
					recs[i] = Record{PartitionKey: pk}
				}
				b.SetBytes(int64(batch * size))
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
}

// BenchmarkShardRead measures sequential reads of 1 KiB records, 1000 per call.
func BenchmarkShardRead(b *testing.B) {
	o := DefaultOptions(b.TempDir())
	o.Fsync = FsyncNever
	o.ExpireInterval = 1 << 62
	s, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st, err := s.CreateStream(StreamConfig{Name: "bench", ShardCount: 1})
	if err != nil {
		b.Fatal(err)
	}
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
