package server

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

// delivery is one record as a subscription delivered it.
type delivery struct {
	shardID string
	seq     string
}

// stressFeed subscribes to every shard of a stream as it appears and
// gathers what the subscriptions deliver, keyed by record data.
type stressFeed struct {
	t      *testing.T
	c      testClient
	stream string
	arn    string

	mu        sync.Mutex
	delivered map[string][]delivery
	seen      map[string]bool // shards subscribed to
	wg        sync.WaitGroup
	streams   []*kinesis.SubscribeToShardEventStream
}

// subscribeNew opens a TRIM_HORIZON subscription on each shard not yet
// subscribed to. It runs on the test goroutine.
func (f *stressFeed) subscribeNew() {
	f.t.Helper()
	out, err := f.c.sdk.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(f.stream)})
	if err != nil {
		f.t.Fatalf("ListShards: %v", err)
	}
	for _, sh := range out.Shards {
		id := aws.ToString(sh.ShardId)
		if f.seen[id] {
			continue
		}
		f.seen[id] = true
		es := subscribe(f.t, f.c.sdk, f.arn, id, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		f.streams = append(f.streams, es)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for ev := range es.Events() {
				v, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
				if !ok {
					continue
				}
				f.mu.Lock()
				for _, r := range v.Value.Records {
					f.delivered[string(r.Data)] = append(f.delivered[string(r.Data)], delivery{shardID: id, seq: aws.ToString(r.SequenceNumber)})
				}
				f.mu.Unlock()
			}
		}()
	}
}

// count is how many distinct records have been delivered.
func (f *stressFeed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.delivered)
}

// TestSubscribeToShardSplitUnderLoad splits shards while PutRecords writers
// run and SubscribeToShard subscribers read every shard, parents and
// children, and checks that no parent delivers a record past its
// EndingSequenceNumber and that every acknowledged record is delivered
// exactly once, on the shard and with the sequence number its
// acknowledgement named, and nothing else is. SHARDLOG_LONG=1 runs it for a minute.
func TestSubscribeToShardSplitUnderLoad(t *testing.T) {
	budget := 6 * time.Second
	if os.Getenv("SHARDLOG_LONG") == "1" {
		budget = time.Minute
	}
	for _, fsync := range []shard.FsyncPolicy{shard.FsyncInterval, shard.FsyncAlways} {
		t.Run(string(fsync), func(t *testing.T) {
			e := newEnvStore(t, func(o *shard.Options) { o.Fsync = fsync }, fastSubscriptions)
			splitUnderLoad(t, e, budget/2)
		})
	}
}

// splitUnderLoad is TestSubscribeToShardSplitUnderLoad on one server, for
// rounds of one stream each until budget is spent.
func splitUnderLoad(t *testing.T, e *testEnv, budget time.Duration) {
	c := e.clients[1] // h2c: the transport enhanced fan-out uses in AWS
	ctx := context.Background()
	deadline := time.Now().Add(budget)
	for round := 0; time.Now().Before(deadline); round++ {
		name := "split-load-" + strconv.Itoa(round)
		st := e.createStream(name, 1)
		f := &stressFeed{t: t, c: c, stream: name, arn: registerConsumer(t, c.sdk, st.ARN(), "kcl"),
			delivered: map[string][]delivery{}, seen: map[string]bool{}}
		f.subscribeNew()

		var acked sync.Map // data -> delivery
		var stop atomic.Bool
		var writers sync.WaitGroup
		for w := 0; w < 4; w++ {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for n := 0; !stop.Load(); n++ {
					entries := make([]types.PutRecordsRequestEntry, 25)
					for i := range entries {
						k := fmt.Sprintf("w%d-%d-%d", w, n, i)
						entries[i] = types.PutRecordsRequestEntry{Data: []byte(k), PartitionKey: aws.String(k)}
					}
					out, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
					if err != nil {
						t.Errorf("PutRecords: %v", err)
						return
					}
					for i, r := range out.Records {
						if r.ErrorCode != nil {
							t.Errorf("PutRecords entry %s: %s %s", entries[i].Data, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
							continue
						}
						acked.Store(string(entries[i].Data), delivery{shardID: aws.ToString(r.ShardId), seq: aws.ToString(r.SequenceNumber)})
					}
				}
			}()
		}
		// Split the newest open shards twice over (1 -> 2 -> 4), at
		// random points of the load.
		for level := 0; level < 2; level++ {
			time.Sleep(30 * time.Millisecond)
			out, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name),
				ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
			if err != nil {
				t.Fatalf("ListShards: %v", err)
			}
			for _, sh := range out.Shards {
				lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
				hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
				mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
				if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name),
					ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
					t.Fatalf("SplitShard %s: %v", aws.ToString(sh.ShardId), err)
				}
				f.subscribeNew()
			}
		}
		time.Sleep(30 * time.Millisecond)
		stop.Store(true)
		writers.Wait()

		want := 0
		acked.Range(func(any, any) bool { want++; return true })
		for wait := time.Now().Add(10 * time.Second); f.count() < want && time.Now().Before(wait); {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let a duplicate, if any, arrive
		for _, es := range f.streams {
			es.Close()
		}
		f.wg.Wait()

		out, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		ending := map[string]*big.Int{}
		for _, sh := range out.Shards {
			if s := aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber); s != "" {
				ending[aws.ToString(sh.ShardId)], _ = new(big.Int).SetString(s, 10)
			}
		}
		for data, ds := range f.delivered {
			for _, d := range ds {
				seq, _ := new(big.Int).SetString(d.seq, 10)
				if end := ending[d.shardID]; end != nil && seq.Cmp(end) > 0 {
					t.Errorf("round %d: closed shard %s delivered %s at %s, past its EndingSequenceNumber %s", round, d.shardID, data, d.seq, end)
				}
			}
			if _, ok := acked.Load(data); !ok {
				t.Errorf("round %d: %s delivered (%v) but never acknowledged", round, data, ds)
			}
			if len(ds) > 1 {
				t.Errorf("round %d: %s delivered %d times: %v", round, data, len(ds), ds)
			}
		}
		acked.Range(func(k, v any) bool {
			ds := f.delivered[k.(string)]
			if len(ds) == 0 {
				t.Errorf("round %d: acknowledged %s (%v) never delivered", round, k, v)
			} else if ds[0] != v.(delivery) {
				t.Errorf("round %d: %s delivered as %v, acknowledged as %v", round, k, ds[0], v)
			}
			return true
		})
		if t.Failed() {
			t.Fatalf("round %d: %d acknowledged, %d delivered", round, want, f.count())
		}
		t.Logf("round %d: %d records across %d shards", round, want, len(out.Shards))
	}
}
