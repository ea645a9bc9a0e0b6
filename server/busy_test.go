package server

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// appendGate holds the next segment append, once armed, until release is
// closed: the append keeps its shard's lock, as a slow one would.
type appendGate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *appendGate) Fault(op string) error {
	if op == "append" && g.armed.CompareAndSwap(true, false) {
		close(g.entered)
		<-g.release
	}
	return nil
}

// TestBusyShardAnswersThroughputExceeded drives limits.shard_queue_bytes
// through the AWS SDK: while one put holds a shard, puts that would queue
// more than the bound behind it are answered at once with
// ProvisionedThroughputExceededException (per record in PutRecords, as
// the error of PutRecord), store nothing, and count in the throttling
// metric; the held put completes.
func TestBusyShardAnswersThroughputExceeded(t *testing.T) {
	g := &appendGate{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnvStore(t, func(o *shard.Options) {
		o.MaxQueuedBytes = 1000
		o.Segment.Faults = g
	})
	e.createStream("busy", 1)
	c := e.clients[0].sdk
	ctx := context.Background()
	g.armed.Store(true)
	held := make(chan error, 1)
	go func() {
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("busy"), PartitionKey: aws.String("k"), Data: make([]byte, 600)})
		held <- err
	}()
	<-g.entered

	entries := make([]types.PutRecordsRequestEntry, 3)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(strings.Repeat("r", 300))}
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("busy"), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords behind a held put: %v", err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 3 {
		t.Fatalf("FailedRecordCount %d, want 3", aws.ToInt32(out.FailedRecordCount))
	}
	for i, r := range out.Records {
		if aws.ToString(r.ErrorCode) != wire.ThroughputExceeded || r.SequenceNumber != nil ||
			!strings.HasPrefix(aws.ToString(r.ErrorMessage), "Rate exceeded for shard shardId-000000000000 in stream busy under account ") {
			t.Fatalf("record %d: code %q message %q sequence number %v", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), r.SequenceNumber)
		}
	}
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("busy"), PartitionKey: aws.String("k"), Data: make([]byte, 500)})
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("PutRecord behind a held put: %v, want ProvisionedThroughputExceededException", err)
	}

	close(g.release)
	if err := <-held; err != nil {
		t.Fatalf("the held put: %v", err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("busy"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 1 || len(got.Records[0].Data) != 600 {
		t.Fatalf("read %d records, want only the held put's", len(got.Records))
	}
	m := scrape(t, e.clients[0], e.addr)
	if n := m[`kinesis_WriteProvisionedThroughputExceeded{stream="busy"}`]; n != 4 {
		t.Fatalf("WriteProvisionedThroughputExceeded %v, want 4", n)
	}
}
