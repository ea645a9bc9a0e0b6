package server

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSubscribePushLimit checks that with throughput emulation on, a
// subscription that has just been pushed a backlog larger than a second of
// its allowance waits for the debt before the next event, and that without
// emulation it does not.
func TestSubscribePushLimit(t *testing.T) {
	const rate = 200_000 // bytes/s
	for _, throttled := range []bool{true, false} {
		name := map[bool]string{true: "throughput", false: "off"}[throttled]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, fastSubscriptions, func(o *Options) {
				o.Limits = Limits{Throughput: throttled, ReadBytesPerSecond: rate}
			})
			c := e.clients[1] // h2c
			ctx := context.Background()
			st := e.createStream("push-limit", 1)
			arn := registerConsumer(t, c.sdk, st.ARN(), "app")
			// 400 KB of backlog: the first event takes it all (under
			// maxEventBytes) and leaves 200 KB owed, a second at rate.
			put := func(n int) {
				t.Helper()
				if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{
					StreamName: aws.String("push-limit"), PartitionKey: aws.String("pk"), Data: bytes.Repeat([]byte{'x'}, n),
				}); err != nil {
					t.Fatalf("PutRecord: %v", err)
				}
			}
			for range 4 {
				put(100_000)
			}
			// The debt starts when the first event is pushed, which is
			// after subscribed: the next push cannot come a second after
			// subscribed or sooner. (Measuring from the later put would
			// count the time spent collecting as part of the wait.)
			subscribed := time.Now()
			es := subscribe(t, c.sdk, arn, "shardId-000000000000",
				types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
			collect(t, es, 4)
			put(10)
			putAt := time.Now()
			collect(t, es, 1)
			sinceSub, sincePut := time.Since(subscribed), time.Since(putAt)
			t.Logf("next record pushed %v after subscribing, %v after its put", sinceSub, sincePut)
			if throttled && sinceSub < time.Second {
				t.Fatalf("pushed %v after subscribing with 200 KB owed at %d B/s; want at least 1s", sinceSub, rate)
			}
			if !throttled && sincePut > 500*time.Millisecond {
				t.Fatalf("pushed %v after its put without emulation", sincePut)
			}
		})
	}
}
