package shard

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkFsyncProducers measures 16 concurrent producers, each putting
// batches of 25 records of 1 KiB (a typical PutRecords), into 1 and into 4
// shards under each fsync policy. Compare records/s of fsync=always with
// fsync=never in the same run: group commit makes one sync serve every
// producer whose records were published before it started.
//
//	go test -run '^$' -bench FsyncProducers -benchtime 2s ./shard
func BenchmarkFsyncProducers(b *testing.B) {
	const producers, batch, size = 16, 25, 1024
	for _, shards := range []int{1, 4} {
		for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
			b.Run(fmt.Sprintf("shards=%d/fsync=%s", shards, policy), func(b *testing.B) {
				o := DefaultOptions(b.TempDir())
				o.Fsync = policy
				o.ExpireInterval = 1 << 62
				s, err := Open(o)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				st, err := s.CreateStream(StreamConfig{Name: "bench", ShardCount: shards})
				if err != nil {
					b.Fatal(err)
				}
				var producer atomic.Int64
				b.SetBytes(batch * size)
				// RunParallel starts parallelism × GOMAXPROCS goroutines.
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((producers + procs - 1) / procs)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					id := producer.Add(1)
					recs := make([]Record, batch)
					keys := make([]HashKey, batch)
					out := make([]PutResult, batch)
					data := make([]byte, size)
					n := 0
					for pb.Next() {
						for i := range recs {
							pk := []byte(fmt.Sprintf("p%d-%d", id, n*batch+i))
							recs[i] = Record{PartitionKey: pk, Data: data}
							keys[i] = HashPartitionKey(pk)
						}
						n++
						st.Put(recs, keys, out)
						if out[0].Err != nil {
							b.Error(out[0].Err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
