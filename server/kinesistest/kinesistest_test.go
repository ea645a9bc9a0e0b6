package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/shardlog/shardlog/server/kinesistest"
	"github.com/shardlog/shardlog/shard"
)

// TestParallelServers uses the package as a user would: two parallel
// subtests, each with its own server, create, write and read their own
// stream and never see the other's.
func TestParallelServers(t *testing.T) {
	for _, name := range []string{"alpha", "beta"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := kinesistest.New(t)
			client := kinesis.NewFromConfig(srv.Config)
			ctx := t.Context()

			if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
				t.Fatal(err)
			}
			// No state delays: the stream is ACTIVE at once.
			sum, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got := sum.StreamDescriptionSummary.StreamStatus; got != types.StreamStatusActive {
				t.Fatalf("status after CreateStream = %s, want ACTIVE", got)
			}
			var want []string
			for i := range 50 {
				data := fmt.Sprintf("%s-%d", name, i)
				want = append(want, data)
				if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(data), Data: []byte(data)}); err != nil {
					t.Fatal(err)
				}
			}

			list, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(list.StreamNames, []string{name}) {
				t.Errorf("ListStreams = %v, want only [%s]", list.StreamNames, name)
			}
			other := map[string]string{"alpha": "beta", "beta": "alpha"}[name]
			_, err = client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(other)})
			var notFound *types.ResourceNotFoundException
			if !errors.As(err, &notFound) {
				t.Errorf("DescribeStreamSummary(%s) on %s's server: err = %v, want ResourceNotFoundException", other, name, err)
			}

			got := readAll(t, client, name)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("read %d records %v, want the %d put %v", len(got), got, len(want), want)
			}
		})
	}
}

// readAll reads every record of every shard of stream from TRIM_HORIZON.
func readAll(t *testing.T, client *kinesis.Client, stream string) []string {
	t.Helper()
	ctx := t.Context()
	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sh := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			page, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				out = append(out, string(r.Data))
			}
			if len(page.Records) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

func TestWithStreams(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStreams("a", "b"), kinesistest.WithStream("c", 3), kinesistest.WithStream("d", 0))
	client := srv.Client()
	want := map[string]struct {
		shards int32
		mode   types.StreamMode
	}{
		"a": {1, types.StreamModeProvisioned},
		"b": {1, types.StreamModeProvisioned},
		"c": {3, types.StreamModeProvisioned},
		"d": {4, types.StreamModeOnDemand},
	}
	for name, w := range want {
		sum, err := client.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		s := sum.StreamDescriptionSummary
		if s.StreamStatus != types.StreamStatusActive || *s.OpenShardCount != w.shards || s.StreamModeDetails.StreamMode != w.mode {
			t.Errorf("%s: status %s, %d shards, mode %s; want ACTIVE, %d, %s", name, s.StreamStatus, *s.OpenShardCount, s.StreamModeDetails.StreamMode, w.shards, w.mode)
		}
	}
}

func TestWithAuth(t *testing.T) {
	srv := kinesistest.New(t,
		kinesistest.WithAuth(kinesistest.Key{AccessKeyID: "AKIDFIRST", SecretAccessKey: "first-secret"},
			kinesistest.Key{AccessKeyID: "AKIDSECOND", SecretAccessKey: "second-secret"}),
		kinesistest.WithStreams("s"))
	ctx := t.Context()
	list := func(id, secret string) error {
		c := kinesis.NewFromConfig(srv.Config, func(o *kinesis.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
			o.RetryMaxAttempts = 1
		})
		_, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		return err
	}
	if _, err := srv.Client().ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Errorf("Config (first key): %v", err)
	}
	if err := list("AKIDSECOND", "second-secret"); err != nil {
		t.Errorf("second key: %v", err)
	}
	err := list("AKIDSECOND", "wrong-secret")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("wrong secret: err = %v, want InvalidSignatureException", err)
	}
	err = list("AKIDUNKNOWN", "x")
	if !errors.As(err, &api) || api.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("unknown key: err = %v, want UnrecognizedClientException", err)
	}
}

func TestWithThroughputLimits(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithThroughputLimits(), kinesistest.WithStreams("s"))
	client := srv.Client()
	// 1000 records of 2 KiB is 2 MiB, over a shard's one second of burst at
	// 1 MiB/s: some of them must be refused.
	var entries []types.PutRecordsRequestEntry
	for i := range 500 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: make([]byte, 2048)})
	}
	throttled := 0
	for range 2 {
		out, err := client.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if aws.ToString(r.ErrorCode) == "ProvisionedThroughputExceededException" {
				throttled++
			}
		}
	}
	if throttled == 0 {
		t.Error("2 MiB put at once into one shard: no record throttled")
	}
}

func TestWithFsync(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithFsync(shard.FsyncAlways), kinesistest.WithStreams("s"))
	client := srv.Client()
	if _, err := client.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("synced")}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, client, "s"); !slices.Equal(got, []string{"synced"}) {
		t.Errorf("read %v, want [synced]", got)
	}
}

// TestStartClose checks the server outside a test: Close stops it and
// removes its data directory.
func TestStartClose(t *testing.T) {
	srv, err := kinesistest.Start(kinesistest.WithStreams("s"))
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client(func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	if _, err := client.ListStreams(t.Context(), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
	before := tempEntries(t)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListStreams(context.Background(), &kinesis.ListStreamsInput{}); err == nil {
		t.Error("ListStreams succeeded after Close")
	}
	if after := tempEntries(t); after != before-1 {
		t.Errorf("temporary directory entries: %d before Close, %d after; want one removed", before, after)
	}
}

// tempEntries counts the kinesistest- entries of the temporary directory.
func tempEntries(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if len(e.Name()) > 12 && e.Name()[:12] == "kinesistest-" {
			n++
		}
	}
	return n
}
