package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/rs/zerolog"
)

// BenchmarkSubscribeToShardHandler measures the server's side of pushing a
// backlog with SubscribeToShard, to compare with BenchmarkGetRecordsHandler:
// the same 10000 records of 1 KiB on one shard, read from TRIM_HORIZON by
// one request per iteration. It drives the real HTTP/1.1 push path in
// process, as serveInLoop does: the fasthttp handler decodes and admits the
// request, and writing its response out (to a byte counter, as to a
// connection, chunked encoding included) runs ops.Service.Pump through the
// response's body stream (subscribeBody), which reads the shard and frames
// the initial response and the SubscribeToShardEvents (about 1 MiB of data
// each). No client and no network run. A 1ns SubscriptionLifetime ends the
// subscription at the first idle read, once the backlog is sent, and a 1ns
// SubscribeRetryInterval lets the next iteration take the slot over. The
// net/http (HTTP/2) adapter is not measured. The ns/record metric is the
// per-record server cost in wall time, cpu-ns/record in the process's CPU
// time (the two differ when more than one goroutine does the work).
func BenchmarkSubscribeToShardHandler(b *testing.B) {
	e := newEnv(b, func(o *Options) {
		o.Logger = zerolog.Nop()
		o.SubscriptionLifetime = time.Nanosecond
		o.SubscribeRetryInterval = time.Nanosecond
	})
	st := e.createStream("bench", 1)
	const n, size = 10000, 1024
	putBacklog(b, st, n, size)
	info, err := st.RegisterConsumer("bench")
	if err != nil {
		b.Fatal(err)
	}
	in := map[string]any{
		"ConsumerARN": info.ARN, "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]string{"Type": "TRIM_HORIZON"},
	}
	for _, r := range requestsInCodecs(e, "SubscribeToShard", in) {
		dataBytes := (size + 2) / 3 * 4 // base64
		if r.cbor {
			dataBytes = size
		}
		b.Run(r.name, func(b *testing.B) {
			var out byteCounter
			b.SetBytes(n * size)
			b.ReportAllocs()
			cpu := serveInLoopTo(b, e, r.req, r.body, &out)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/record")
			// Each push carries every record's data, so fewer bytes than
			// that means the subscription ended before the backlog was sent.
			if got, want := out.n.Load()/int64(b.N), int64(n*dataBytes); got < want {
				b.Fatalf("%d bytes pushed per subscription, want at least %d", got, want)
			}
		})
	}
}

// byteCounter is an io.Writer that counts and discards.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// BenchmarkSubscribePutToPush measures put-to-push latency: from just
// before PutRecord is sent to the record's arrival at each subscribed
// consumer (Go SDK, h2c), at about 1,000 records/s, with 1 and 5 consumers
// on one shard. It reports p50 and p99 in microseconds.
func BenchmarkSubscribePutToPush(b *testing.B) {
	for _, consumers := range []int{1, 5} {
		b.Run(fmt.Sprintf("consumers=%d", consumers), func(b *testing.B) {
			e := newEnv(b)
			c := e.clients[1] // h2c
			st := e.createStream("lat", 1)
			var streams []*kinesis.SubscribeToShardEventStream
			for i := 0; i < consumers; i++ {
				info, err := st.RegisterConsumer("c" + strconv.Itoa(i))
				if err != nil {
					b.Fatal(err)
				}
				arn := info.ARN
				out, err := kinesis.New(c.sdk.Options()).SubscribeToShard(context.Background(), &kinesis.SubscribeToShardInput{
					ConsumerARN: aws.String(arn), ShardId: aws.String("shardId-000000000000"),
					StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
				if err != nil {
					b.Fatal(err)
				}
				streams = append(streams, out.GetStream())
				defer out.GetStream().Close()
			}
			n := max(b.N, 1000)
			sent := make([]time.Time, n)
			lat := make(chan time.Duration, n*consumers)
			for _, es := range streams {
				go func() {
					got := 0
					for ev := range es.Events() {
						now := time.Now()
						for _, r := range ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value.Records {
							i, _ := strconv.Atoi(string(r.Data))
							lat <- now.Sub(sent[i])
							got++
						}
						if got == n {
							return
						}
					}
				}()
			}
			b.ResetTimer()
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for i := 0; i < n; i++ {
				<-tick.C
				sent[i] = time.Now()
				if _, err := c.sdk.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("lat"), Data: []byte(strconv.Itoa(i)), PartitionKey: aws.String("k")}); err != nil {
					b.Fatal(err)
				}
			}
			all := make([]time.Duration, 0, n*consumers)
			timeout := time.After(30 * time.Second)
			for len(all) < n*consumers {
				select {
				case d := <-lat:
					all = append(all, d)
				case <-timeout:
					b.Fatalf("%d of %d pushes arrived", len(all), n*consumers)
				}
			}
			b.StopTimer()
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		})
	}
}
