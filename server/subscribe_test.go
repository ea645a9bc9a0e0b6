package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fastSubscriptions shortens the subscription timings for tests.
func fastSubscriptions(o *Options) {
	o.SubscriptionHeartbeat = 50 * time.Millisecond
	o.SubscribeRetryInterval = 100 * time.Millisecond
}

// registerConsumer registers a consumer through the SDK and returns its ARN.
func registerConsumer(t *testing.T, c *kinesis.Client, streamARN, name string) string {
	t.Helper()
	out, err := c.RegisterStreamConsumer(context.Background(), &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String(streamARN), ConsumerName: aws.String(name),
	})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	if out.Consumer.ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("consumer status %s, want ACTIVE", out.Consumer.ConsumerStatus)
	}
	return aws.ToString(out.Consumer.ConsumerARN)
}

// subscribe opens a subscription through the SDK. Each subscription gets
// its own client: the Go SDK's event-stream codec (smithy-go v1.28.9) keeps
// one decode buffer per client, shared by all its streams, so concurrent
// subscriptions on one client race inside the SDK.
func subscribe(t *testing.T, c *kinesis.Client, consumerARN, shardID string, pos types.StartingPosition) *kinesis.SubscribeToShardEventStream {
	t.Helper()
	c = kinesis.New(c.Options())
	out, err := c.SubscribeToShard(context.Background(), &kinesis.SubscribeToShardInput{
		ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shardID), StartingPosition: &pos,
	})
	if err != nil {
		t.Fatalf("SubscribeToShard %s: %v", shardID, err)
	}
	es := out.GetStream()
	t.Cleanup(func() { es.Close() })
	return es
}

// nextEvent waits for the next event; ok is false when the stream ended.
func nextEvent(t *testing.T, es *kinesis.SubscribeToShardEventStream) (types.SubscribeToShardEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-es.Events():
		if !ok {
			return types.SubscribeToShardEvent{}, false
		}
		v, isEvent := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !isEvent {
			t.Fatalf("unexpected event %T", ev)
		}
		return v.Value, true
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	panic("unreachable")
}

// collect reads events until want records have arrived.
func collect(t *testing.T, es *kinesis.SubscribeToShardEventStream, want int) ([]types.Record, types.SubscribeToShardEvent) {
	t.Helper()
	var recs []types.Record
	var last types.SubscribeToShardEvent
	for len(recs) < want {
		ev, ok := nextEvent(t, es)
		if !ok {
			t.Fatalf("stream ended after %d of %d records: %v", len(recs), want, es.Err())
		}
		recs = append(recs, ev.Records...)
		last = ev
	}
	if len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	return recs, last
}

// waitEnd waits for the stream to end and returns its error.
func waitEnd(t *testing.T, es *kinesis.SubscribeToShardEventStream) error {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-es.Events():
			if !ok {
				return es.Err()
			}
		case <-deadline:
			t.Fatal("stream did not end within 10s")
		}
	}
}

func TestSubscribeToShardEveryShardExactlyOnceInOrder(t *testing.T) {
	e := newEnv(t, fastSubscriptions)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "efo-" + c.name
		st := e.createStream(name, 3)
		arn := registerConsumer(t, c.sdk, st.ARN(), "app")
		streams := map[string]*kinesis.SubscribeToShardEventStream{}
		for _, sh := range st.Shards() {
			streams[sh.ID()] = subscribe(t, c.sdk, arn, sh.ID(), types.StartingPosition{Type: types.ShardIteratorTypeLatest})
		}
		// What each shard must deliver, in order.
		want := map[string][]string{}
		for batch := 0; batch < 4; batch++ {
			var entries []types.PutRecordsRequestEntry
			for i := 0; i < 50; i++ {
				k := strconv.Itoa(batch*50 + i)
				entries = append(entries, types.PutRecordsRequestEntry{Data: []byte("rec-" + k), PartitionKey: aws.String("pk" + k)})
			}
			out, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
			if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("PutRecords: %v", err)
			}
			for _, r := range out.Records {
				want[aws.ToString(r.ShardId)] = append(want[aws.ToString(r.ShardId)], aws.ToString(r.SequenceNumber))
			}
		}
		for id, es := range streams {
			recs, last := collect(t, es, len(want[id]))
			for i, r := range recs {
				if got := aws.ToString(r.SequenceNumber); got != want[id][i] {
					t.Fatalf("%s record %d: sequence %s, want %s", id, i, got, want[id][i])
				}
				if r.ApproximateArrivalTimestamp == nil || time.Since(*r.ApproximateArrivalTimestamp) > time.Minute {
					t.Fatalf("%s record %d: arrival %v", id, i, r.ApproximateArrivalTimestamp)
				}
			}
			if aws.ToString(last.ContinuationSequenceNumber) != want[id][len(want[id])-1] {
				t.Fatalf("%s continuation %s, want the last record's %s", id, aws.ToString(last.ContinuationSequenceNumber), want[id][len(want[id])-1])
			}
			// Idle: heartbeats keep coming, with the same continuation and no records.
			ev, ok := nextEvent(t, es)
			if !ok || len(ev.Records) != 0 || aws.ToString(ev.ContinuationSequenceNumber) != want[id][len(want[id])-1] || aws.ToInt64(ev.MillisBehindLatest) != 0 {
				t.Fatalf("%s idle event %+v (ok %v)", id, ev, ok)
			}
		}
	})
}

func TestSubscribeToShardContinuationAcrossResubscription(t *testing.T) {
	e := newEnv(t, fastSubscriptions)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "cont-" + c.name
		st := e.createStream(name, 1)
		shardID := st.Shards()[0].ID()
		arn := registerConsumer(t, c.sdk, st.ARN(), "app")
		put := func(from, n int) []string {
			var seqs []string
			for i := from; i < from+n; i++ {
				out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte(strconv.Itoa(i)), PartitionKey: aws.String("k")})
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, aws.ToString(out.SequenceNumber))
			}
			return seqs
		}
		first := put(0, 5)
		es := subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		recs, last := collect(t, es, 5)
		if aws.ToString(recs[0].SequenceNumber) != first[0] {
			t.Fatalf("TRIM_HORIZON starts at %s, want %s", aws.ToString(recs[0].SequenceNumber), first[0])
		}
		// A backlog behind the reader shows in MillisBehindLatest only while it lasts.
		if aws.ToInt64(last.MillisBehindLatest) != 0 {
			t.Fatalf("caught up but MillisBehindLatest %d", aws.ToInt64(last.MillisBehindLatest))
		}
		cont := aws.ToString(last.ContinuationSequenceNumber)
		es.Close()
		second := put(5, 7)
		time.Sleep(150 * time.Millisecond) // AWS's rule: wait before subscribing again
		es = subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(cont)})
		recs, _ = collect(t, es, 7)
		for i, r := range recs {
			if aws.ToString(r.SequenceNumber) != second[i] || string(r.Data) != strconv.Itoa(5+i) {
				t.Fatalf("resumed record %d: %s %q, want %s", i, aws.ToString(r.SequenceNumber), r.Data, second[i])
			}
		}
		es.Close()
		time.Sleep(150 * time.Millisecond)
		// AT_SEQUENCE_NUMBER and AT_TIMESTAMP start where GetShardIterator would.
		es = subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(second[2])})
		recs, _ = collect(t, es, 5)
		if aws.ToString(recs[0].SequenceNumber) != second[2] {
			t.Fatalf("AT_SEQUENCE_NUMBER starts at %s", aws.ToString(recs[0].SequenceNumber))
		}
		es.Close()
		time.Sleep(150 * time.Millisecond)
		es = subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(-time.Hour))})
		if recs, _ = collect(t, es, 12); aws.ToString(recs[0].SequenceNumber) != first[0] {
			t.Fatalf("AT_TIMESTAMP starts at %s", aws.ToString(recs[0].SequenceNumber))
		}
	})
}

// TestSubscribeToShardHeartbeatOnEmptyShard checks that a shard nothing was
// ever written to still sends events, as AWS does: no records, a
// ContinuationSequenceNumber to checkpoint, MillisBehindLatest 0. Resuming
// AFTER_SEQUENCE_NUMBER of that continuation must not skip the first record.
func TestSubscribeToShardHeartbeatOnEmptyShard(t *testing.T) {
	e := newEnv(t, fastSubscriptions)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "quiet-" + c.name
		st := e.createStream(name, 1)
		shardID := st.Shards()[0].ID()
		var cont string
		for _, typ := range []types.ShardIteratorType{types.ShardIteratorTypeTrimHorizon, types.ShardIteratorTypeLatest} {
			arn := registerConsumer(t, c.sdk, st.ARN(), "quiet-"+string(typ))
			es := subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: typ})
			ev, ok := nextEvent(t, es) // fails after 10s without an event
			if !ok {
				t.Fatalf("%s: stream ended: %v", typ, es.Err())
			}
			if len(ev.Records) != 0 || aws.ToString(ev.ContinuationSequenceNumber) == "" || ev.MillisBehindLatest == nil || *ev.MillisBehindLatest != 0 || ev.ChildShards != nil {
				t.Fatalf("%s: first event %+v", typ, ev)
			}
			if cont != "" && aws.ToString(ev.ContinuationSequenceNumber) != cont {
				t.Fatalf("%s: continuation %s, TRIM_HORIZON's was %s", typ, aws.ToString(ev.ContinuationSequenceNumber), cont)
			}
			cont = aws.ToString(ev.ContinuationSequenceNumber)
			es.Close()
		}
		out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte("first"), PartitionKey: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		if first := aws.ToString(out.SequenceNumber); len(cont) != len(first) || cont >= first {
			t.Fatalf("empty-shard continuation %s does not sort before the first record %s", cont, first)
		}
		time.Sleep(150 * time.Millisecond) // AWS's rule: wait before subscribing again
		arn := registerConsumer(t, c.sdk, st.ARN(), "quiet-resume")
		es := subscribe(t, c.sdk, arn, shardID, types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(cont)})
		if recs, _ := collect(t, es, 1); aws.ToString(recs[0].SequenceNumber) != aws.ToString(out.SequenceNumber) {
			t.Fatalf("AFTER the empty-shard continuation starts at %s, want the first record %s", aws.ToString(recs[0].SequenceNumber), aws.ToString(out.SequenceNumber))
		}
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shardID),
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(cont)})
		if err != nil {
			t.Fatalf("GetShardIterator AT the empty-shard continuation: %v", err)
		}
		got, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil || len(got.Records) != 1 || aws.ToString(got.Records[0].SequenceNumber) != aws.ToString(out.SequenceNumber) {
			t.Fatalf("GetRecords AT the empty-shard continuation: %v, %+v", err, got)
		}
	})
}

func TestSubscribeToShardChildShardsAfterSplit(t *testing.T) {
	e := newEnv(t, fastSubscriptions)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "split-" + c.name
		st := e.createStream(name, 1)
		parent := st.Shards()[0].ID()
		arn := registerConsumer(t, c.sdk, st.ARN(), "app")
		es := subscribe(t, c.sdk, arn, parent, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
		for i := 0; i < 3; i++ {
			if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte("x"), PartitionKey: aws.String("k")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(parent),
			NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
			t.Fatal(err)
		}
		var got int
		for {
			ev, ok := nextEvent(t, es)
			if !ok {
				t.Fatalf("stream ended without ChildShards: %v", es.Err())
			}
			got += len(ev.Records)
			if len(ev.ChildShards) == 0 {
				if ev.ContinuationSequenceNumber == nil {
					t.Fatal("event without continuation before the end")
				}
				continue
			}
			if got != 3 || ev.ContinuationSequenceNumber != nil {
				t.Fatalf("end event after %d records, continuation %v", got, ev.ContinuationSequenceNumber)
			}
			if len(ev.ChildShards) != 2 || ev.ChildShards[0].ParentShards[0] != parent ||
				aws.ToString(ev.ChildShards[1].HashKeyRange.StartingHashKey) != "170141183460469231731687303715884105728" {
				t.Fatalf("child shards %+v", ev.ChildShards)
			}
			break
		}
		if err := waitEnd(t, es); err != nil {
			t.Fatalf("stream after ChildShards ended with %v", err)
		}
	})
}

func TestSubscribeToShardTakeoverDeregistrationLifetime(t *testing.T) {
	e := newEnv(t, fastSubscriptions, func(o *Options) { o.SubscriptionLifetime = 1500 * time.Millisecond })
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		st := e.createStream("take-"+c.name, 1)
		shardID := st.Shards()[0].ID()
		arn := registerConsumer(t, c.sdk, st.ARN(), "app")
		latest := types.StartingPosition{Type: types.ShardIteratorTypeLatest}

		// Lifetime: the response simply ends, without an error.
		es := subscribe(t, c.sdk, arn, shardID, latest)
		start := time.Now()
		if err := waitEnd(t, es); err != nil {
			t.Fatalf("lifetime end: %v", err)
		}
		if d := time.Since(start); d < time.Second {
			t.Fatalf("subscription ended after %v, lifetime is 1.5s", d)
		}

		// Takeover: too soon is refused; later, the new one wins.
		time.Sleep(150 * time.Millisecond)
		first := subscribe(t, c.sdk, arn, shardID, latest)
		_, err := c.sdk.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(arn), ShardId: aws.String(shardID), StartingPosition: &latest})
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			t.Fatalf("second subscription within the retry interval: %v, want ResourceInUseException", err)
		}
		time.Sleep(150 * time.Millisecond)
		second := subscribe(t, c.sdk, arn, shardID, latest)
		if err := waitEnd(t, first); !errors.As(err, &inUse) {
			t.Fatalf("taken-over subscription ended with %v, want ResourceInUseException", err)
		}
		if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(st.Name()), Data: []byte("after"), PartitionKey: aws.String("k")}); err != nil {
			t.Fatal(err)
		}
		if recs, _ := collect(t, second, 1); string(recs[0].Data) != "after" {
			t.Fatalf("new subscription got %q", recs[0].Data)
		}

		// Deregistration ends it with ResourceNotFoundException.
		if _, err := c.sdk.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		var notFound *types.ResourceNotFoundException
		if err := waitEnd(t, second); !errors.As(err, &notFound) {
			t.Fatalf("after deregistration: %v, want ResourceNotFoundException", err)
		}
		_, err = c.sdk.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(arn), ShardId: aws.String(shardID), StartingPosition: &latest})
		if !errors.As(err, &notFound) {
			t.Fatalf("subscribe with a deregistered consumer: %v", err)
		}
	})
}

func TestSubscribeToShardErrors(t *testing.T) {
	e := newEnv(t, fastSubscriptions)
	st := e.createStream("errs", 1)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		arn := registerConsumer(t, c.sdk, st.ARN(), "app-"+c.name)
		sub := func(consumer, shardID string, pos types.StartingPosition) error {
			_, err := c.sdk.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumer), ShardId: aws.String(shardID), StartingPosition: &pos})
			return err
		}
		var notFound *types.ResourceNotFoundException
		var invalid *types.InvalidArgumentException
		if err := sub(arn, "shardId-000000000009", types.StartingPosition{Type: types.ShardIteratorTypeLatest}); !errors.As(err, &notFound) {
			t.Fatalf("missing shard: %v", err)
		}
		if err := sub(st.ARN()+"/consumer/nobody:1", "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest}); !errors.As(err, &notFound) {
			t.Fatalf("missing consumer: %v", err)
		}
		if err := sub(arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber}); !errors.As(err, &invalid) {
			t.Fatalf("AT_SEQUENCE_NUMBER without a number: %v", err)
		}
		raw := c.call(t, e.addr, "SubscribeToShard", `{"ShardId":"shardId-000000000000"}`)
		if raw.status != 400 || raw.body["__type"] != wire.Validation {
			t.Fatalf("no ConsumerARN: %d %v", raw.status, raw.body)
		}
	})
}

func TestConsumerOperations(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "cons-" + c.name
		st := e.createStream(name, 1)
		var arns []string
		for i := 0; i < 5; i++ {
			arns = append(arns, registerConsumer(t, c.sdk, st.ARN(), fmt.Sprintf("c%d", i)))
		}
		wantPrefix := st.ARN() + "/consumer/c0:"
		if arns[0][:len(wantPrefix)] != wantPrefix {
			t.Fatalf("consumer ARN %s", arns[0])
		}
		_, err := c.sdk.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(st.ARN()), ConsumerName: aws.String("c0")})
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			t.Fatalf("duplicate register: %v", err)
		}
		d, err := c.sdk.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arns[1])})
		if err != nil || aws.ToString(d.ConsumerDescription.ConsumerName) != "c1" || aws.ToString(d.ConsumerDescription.StreamARN) != st.ARN() ||
			d.ConsumerDescription.ConsumerStatus != types.ConsumerStatusActive || d.ConsumerDescription.ConsumerCreationTimestamp == nil {
			t.Fatalf("describe by ARN: %+v, %v", d, err)
		}
		d, err = c.sdk.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(st.ARN()), ConsumerName: aws.String("c2")})
		if err != nil || aws.ToString(d.ConsumerDescription.ConsumerARN) != arns[2] {
			t.Fatalf("describe by name: %+v, %v", d, err)
		}
		var invalid *types.InvalidArgumentException
		if _, err := c.sdk.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerName: aws.String("c2")}); !errors.As(err, &invalid) {
			t.Fatalf("describe by name without stream: %v", err)
		}
		// Paging, two at a time, in registration order.
		var listed []string
		p := kinesis.NewListStreamConsumersPaginator(c.sdk, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(st.ARN()), MaxResults: aws.Int32(2)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, cs := range out.Consumers {
				listed = append(listed, aws.ToString(cs.ConsumerARN))
			}
		}
		if pages != 3 || fmt.Sprint(listed) != fmt.Sprint(arns) {
			t.Fatalf("%d pages: %v, want %v", pages, listed, arns)
		}
		sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil || aws.ToInt32(sum.StreamDescriptionSummary.ConsumerCount) != 5 {
			t.Fatalf("ConsumerCount: %+v, %v", sum, err)
		}
		// Consumer ARNs carry their own tags.
		if _, err := c.sdk.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arns[0]), Tags: map[string]string{"team": "blue"}}); err != nil {
			t.Fatalf("TagResource on a consumer: %v", err)
		}
		tags, err := c.sdk.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(arns[0])})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "blue" {
			t.Fatalf("ListTagsForResource on a consumer: %+v, %v", tags, err)
		}
		if _, err := c.sdk.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arns[0]), TagKeys: []string{"team"}}); err != nil {
			t.Fatal(err)
		}
		if st.Tags()["team"] != "" {
			t.Fatal("consumer tag landed on the stream")
		}
		// DeleteStream is refused while consumers exist, unless enforced.
		_, err = c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
		if !errors.As(err, &inUse) {
			t.Fatalf("DeleteStream with consumers: %v", err)
		}
		if _, err := c.sdk.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(st.ARN()), ConsumerName: aws.String("c4")}); err != nil {
			t.Fatal(err)
		}
		var notFound *types.ResourceNotFoundException
		if _, err := c.sdk.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arns[4])}); !errors.As(err, &notFound) {
			t.Fatalf("describe deregistered: %v", err)
		}
		if _, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
			t.Fatalf("DeleteStream enforced: %v", err)
		}
	})
}

// TestSubscribeBodyReadAndClose: the HTTP/1.1 subscription body, which
// fasthttp writes with WriteTo, also serves a consumer that reads it (through
// a pipe), and a body closed before it is written ends its subscription
// without blocking.
func TestSubscribeBodyReadAndClose(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.SubscriptionLifetime = time.Nanosecond // ends at the first idle read
		o.SubscribeRetryInterval = time.Nanosecond
	})
	st := e.createStream("body", 1)
	recs := []shard.Record{{Data: []byte("a"), PartitionKey: []byte("k")}, {Data: []byte("b"), PartitionKey: []byte("k")}, {Data: []byte("c"), PartitionKey: []byte("k")}}
	results := make([]shard.PutResult, len(recs))
	st.Put(recs, make([]shard.HashKey, len(recs)), results)
	info, err := st.RegisterConsumer("c")
	if err != nil {
		t.Fatal(err)
	}
	req := []byte(`{"ConsumerARN":"` + info.ARN + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`)
	start := func() *subscribeBody {
		t.Helper()
		sub, err := e.srv.svc.SubscribeToShard(nil, policy.Peer{}, wire.JSON{}, req)
		if err != nil {
			t.Fatal(err)
		}
		return &subscribeBody{s: e.srv, sub: sub, c: wire.JSON{}}
	}

	b := start()
	raw, err := io.ReadAll(struct{ io.Reader }{b}) // Read only, never WriteTo
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw)
	var kinds, data []string
	for r.Len() > 0 {
		m, err := eventstream.NewDecoder().Decode(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, m.Headers.Get(":event-type").String())
		var ev struct{ Records []struct{ Data []byte } }
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		for _, rec := range ev.Records {
			data = append(data, string(rec.Data))
		}
	}
	if fmt.Sprint(kinds) != "[initial-response SubscribeToShardEvent]" || fmt.Sprint(data) != "[a b c]" {
		t.Fatalf("read messages %v with records %v", kinds, data)
	}

	b = start()
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close of an unwritten body did not return")
	}
	if _, err := b.WriteTo(io.Discard); err == nil {
		t.Fatal("WriteTo after Close wrote the subscription")
	}
}
