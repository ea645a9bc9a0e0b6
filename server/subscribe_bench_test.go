package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

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
