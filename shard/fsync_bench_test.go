package shard

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkFsyncProducers measures 16 concurrent producers, each putting
// batches of 25 records of 1 KiB (a typical PutRecords), into 4 and into 16
// shards under each fsync policy. Compare records/s of fsync=always with
// fsync=never in the same run: the store-wide group commit makes one round
// of syncs serve every producer whose records were published before it
// started. The harness allocates nothing per put, so allocs/record is the
// store's own (the committer's rounds and the syncs' goroutines).
//
//	go test -run '^$' -bench FsyncProducers -benchmem -benchtime 2s ./shard
func BenchmarkFsyncProducers(b *testing.B) {
	const producers, batch, size = 16, 25, 1024
	for _, shards := range []int{4, 16} {
		for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
			b.Run(fmt.Sprintf("shards=%d/fsync=%s", shards, policy), func(b *testing.B) {
				st := benchStream(b, policy, shards)
				var producer atomic.Int64
				b.SetBytes(batch * size)
				// RunParallel starts parallelism × GOMAXPROCS goroutines.
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((producers + procs - 1) / procs)
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					id := producer.Add(1)
					recs := make([]Record, batch)
					keys := make([]HashKey, batch)
					out := make([]PutResult, batch)
					pks := make([][]byte, batch)
					data := make([]byte, size)
					n := int64(0)
					for pb.Next() {
						for i := range recs {
							pk := append(strconv.AppendInt(pks[i][:0], id, 10), '-')
							pks[i] = strconv.AppendInt(pk, n, 10)
							n++
							recs[i] = Record{PartitionKey: pks[i], Data: data}
							keys[i] = HashPartitionKey(pks[i])
						}
						st.Put(recs, keys, out)
						if out[0].Err != nil {
							b.Error(out[0].Err)
							return
						}
					}
				})
				b.StopTimer()
				runtime.ReadMemStats(&after)
				records := float64(b.N * batch)
				b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
			})
		}
	}
}
