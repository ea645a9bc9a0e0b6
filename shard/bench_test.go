package shard

import (
	"fmt"
	"slices"
	"testing"
	"time"
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

// BenchmarkStreamPutRouted measures Stream.Put of 500 records of 100
// bytes with 500 partition keys over 4 shards (FsyncNever): routing,
// grouping by shard and one append per shard, as a PutRecords does.
func BenchmarkStreamPutRouted(b *testing.B) {
	o := DefaultOptions(b.TempDir())
	o.Fsync = FsyncNever
	o.ExpireInterval = 1 << 62
	s, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st, err := s.CreateStream(StreamConfig{Name: "bench", ShardCount: 4})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 500
	recs := make([]Record, batch)
	keys := make([]HashKey, batch)
	out := make([]PutResult, batch)
	data := make([]byte, 100)
	for i := range recs {
		pk := []byte(fmt.Sprintf("pk-%d", i))
		keys[i] = HashPartitionKey(pk)
		recs[i] = Record{PartitionKey: pk}
	}
	b.SetBytes(batch * 100)
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

// BenchmarkFirstWrite measures the first append to a dormant shard after a
// restart, one shard per op: one never written, whose append creates its
// first segment (build, fsync, rename, directory sync), and one written
// before the restart, whose append loads its segment. It reports the p99
// of the single appends beside the mean.
func BenchmarkFirstWrite(b *testing.B) {
	for _, written := range []bool{false, true} {
		b.Run(fmt.Sprintf("written=%v", written), func(b *testing.B) {
			o := DefaultOptions(b.TempDir())
			o.ExpireInterval = 1 << 62
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
