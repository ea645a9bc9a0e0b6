package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestTenMiBRecordWithSmallestSegments puts the largest record the API
// accepts (10 MiB of data and key) into a stream of a daemon with the
// smallest segment_bytes (2 MiB), between small records, through the AWS
// SDK for Go v2. The record gets a segment of its own; it reads back byte
// for byte, after a SIGKILL (its oversized segment is the active one then)
// and after a clean restart.
func TestTenMiBRecordWithSmallestSegments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	const cfg = "storage:\n  segment_bytes: 2097152\n"
	d := startDaemonConfig(t, dir, cfg)
	c := kinesisClient(d.Endpoint)
	const stream = "big"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{
		StreamARN: sum.StreamDescriptionSummary.StreamARN, MaxRecordSizeInKiB: aws.Int32(10240),
	}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 10<<20-1) // plus the one-byte partition key: 10 MiB
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	put := func(data []byte) {
		t.Helper()
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: data, PartitionKey: aws.String("k")}); err != nil {
			t.Fatalf("PutRecord of %d bytes: %v", len(data), err)
		}
	}
	put([]byte("before"))
	put(big)
	want := [][]byte{[]byte("before"), big}
	readAll(ctx, t, c, stream, want)

	d.kill(t) // the 10 MiB record is the whole of the active segment
	d = startDaemonConfig(t, dir, cfg)
	c = kinesisClient(d.Endpoint)
	readAll(ctx, t, c, stream, want)
	put([]byte("after"))
	want = append(want, []byte("after"))
	d.stop(t)

	d = startDaemonConfig(t, dir, cfg)
	c = kinesisClient(d.Endpoint)
	readAll(ctx, t, c, stream, want)
}

// readAll reads shard 0 of stream from the trim horizon to the tip and
// compares the data with want.
func readAll(ctx context.Context, t *testing.T, c *kinesis.Client, stream string, want [][]byte) {
	t.Helper()
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for iter := it.ShardIterator; iter != nil && len(got) < len(want); {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		for _, r := range out.Records {
			got = append(got, r.Data)
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: %d bytes read back differ from the %d put", i, len(got[i]), len(want[i]))
		}
	}
}
