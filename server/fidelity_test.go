package server

import (
	"context"
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Behaviour recorded against AWS that clients can observe (issue 15). Each
// test names the AWS response it mirrors and where it was recorded.

// TestCreateStreamWithoutShardCount: CreateStream with neither ShardCount
// nor StreamModeDetails creates a stream of four shards. Source:
// LocalStack's AWS-validated snapshot
// tests/aws/services/kinesis/test_kinesis.snapshot.json,
// TestKinesis::test_create_stream_without_shard_count (4 shards); the mode
// is on-demand, whose initial capacity is four shards (AWS API reference,
// StreamModeDetails).
func TestCreateStreamWithoutShardCount(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := "bare-" + c.name
		if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Fatalf("CreateStream without ShardCount: %v", err)
		}
		d, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := *d.StreamDescriptionSummary.OpenShardCount; got != 4 {
			t.Fatalf("%d open shards, want 4", got)
		}
		if m := d.StreamDescriptionSummary.StreamModeDetails.StreamMode; m != types.StreamModeOnDemand {
			t.Fatalf("mode %s, want ON_DEMAND", m)
		}
	})
}

// TestShardIteratorInQuotes: GetRecords accepts a ShardIterator wrapped in
// literal double quotes and returns the records. Source: LocalStack's
// AWS-validated TestKinesis::test_get_records_shard_iterator_with_surrounding_quotes.
func TestShardIteratorInQuotes(t *testing.T) {
	e := newEnv(t)
	e.createStream("q", 1)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		if _, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("q"), Data: []byte("Hello world"), PartitionKey: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("q"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(`"` + *it.ShardIterator + `"`)})
		if err != nil {
			t.Fatalf("GetRecords with a quoted iterator: %v", err)
		}
		if len(out.Records) == 0 {
			t.Fatal("no records")
		}
	})
}

// TestTagCharacters: tag keys and values may hold Unicode letters, digits,
// spaces and _ . : / = + - @; a tab, a newline, a comma or a semicolon in
// either is InvalidArgumentException with AWS's message. Sources: the AWS
// SDK model's TagResource documentation (the character set; newest), and
// kinesalite's test/addTagsToStream.js, recorded against AWS (tab, newline,
// comma and ; refused, in keys and in values).
func TestTagCharacters(t *testing.T) {
	e := newEnv(t)
	e.createStream("tags", 1)
	e.each(t, func(t *testing.T, c testClient) {
		ok := map[string]string{"team name": "Data Platform", "ünïcode.key_1": "a:b/c=d+e-f@g", "k": ""}
		if r := c.call(t, e.addr, "AddTagsToStream", map[string]any{"StreamName": "tags", "Tags": ok}); r.status != 200 {
			t.Fatalf("valid tags refused: %d %v", r.status, r.body)
		}
		for _, bad := range []string{"a\tb", "a\nb", "a,b", "a;b", "a%b"} {
			for _, tags := range []map[string]string{{bad: "v"}, {"k": bad}} {
				wantRawError(t, c.call(t, e.addr, "AddTagsToStream", map[string]any{"StreamName": "tags", "Tags": tags}), wire.InvalidArgument,
					"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - @ :.")
			}
		}
	})
}
