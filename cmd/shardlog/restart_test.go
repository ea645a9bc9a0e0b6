package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// kinesisClient returns an AWS SDK for Go v2 Kinesis client for endpoint
// with dummy credentials.
func kinesisClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSHARDLOGTEST", "shardlog-test-secret", ""),
		HTTPClient:   sdkhttp.New(),
	})
}

// TestDataSurvivesRestart writes records through the real binary, stops it
// with SIGTERM, starts it again on the same data directory and reads every
// record back byte for byte; the start line reports the recovered stream,
// and new records get higher sequence numbers than the old ones.
func TestDataSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemonIn(t, dir)
	if d.Started.Streams != 0 || d.Started.DataDir != dir {
		t.Fatalf("first start line: %+v", d.Started)
	}
	c := kinesisClient(d.Endpoint)
	const stream = "restart"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	entries := make([]types.PutRecordsRequestEntry, 50)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{
			PartitionKey: aws.String(fmt.Sprintf("key-%d", i)),
			Data:         append([]byte{0, byte(i), 0xff}, bytes.Repeat([]byte{byte(i)}, i*100)...),
		}
	}
	put, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(put.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords failed %d records", aws.ToInt32(put.FailedRecordCount))
	}
	want := make(map[string][]byte) // sequence number -> data
	last := make(map[string]*big.Int)
	for i, r := range put.Records {
		want[aws.ToString(r.SequenceNumber)] = entries[i].Data
		last[aws.ToString(r.ShardId)] = seqNum(t, aws.ToString(r.SequenceNumber))
	}
	d.stop(t)

	d = startDaemonIn(t, dir)
	if d.Started.Streams != 1 {
		t.Fatalf("restart recovered %d streams, want 1", d.Started.Streams)
	}
	t.Logf("recovery took %.1f ms", d.Started.Took)
	c = kinesisClient(d.Endpoint)
	got := make(map[string][]byte)
	for shardID := range last {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: aws.String(shardID),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			got[aws.ToString(r.SequenceNumber)] = r.Data
		}
		after, err := c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(stream), Data: []byte("after restart"),
			PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(hashKeyIn(t, c, stream, shardID)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(after.ShardId) != shardID || seqNum(t, aws.ToString(after.SequenceNumber)).Cmp(last[shardID]) <= 0 {
			t.Fatalf("record after restart: shard %s seq %s, last before restart %s on %s",
				aws.ToString(after.ShardId), aws.ToString(after.SequenceNumber), last[shardID], shardID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read back %d records, wrote %d", len(got), len(want))
	}
	for seq, data := range want {
		if !bytes.Equal(got[seq], data) {
			t.Fatalf("record %s: got %d bytes, want %d", seq, len(got[seq]), len(data))
		}
	}
}

// seqNum parses a sequence number as the decimal integer it is.
func seqNum(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("sequence number %q is not decimal", s)
	}
	return n
}

// hashKeyIn returns the starting hash key of a shard, an explicit hash key
// that routes to it.
func hashKeyIn(t *testing.T, c *kinesis.Client, stream, shardID string) string {
	t.Helper()
	out, err := c.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Shards {
		if aws.ToString(s.ShardId) == shardID {
			return aws.ToString(s.HashKeyRange.StartingHashKey)
		}
	}
	t.Fatalf("shard %s not listed", shardID)
	return ""
}
