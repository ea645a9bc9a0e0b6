package server

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Behaviour recorded against AWS that clients can observe. Each test names the AWS response it mirrors and where it was recorded.

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

// TestSequenceNumberFormat: sequence numbers and shard ids have AWS's formats.
// Sources: the AWS API reference (SequenceNumber matches 0|([1-9]\d{0,128});
// shard ids as DescribeStream shows them, shardId- and 12 digits) and the
// Kinesis Client Library's SequenceNumberValidator (amazon-kinesis-client,
// V2SequenceNumberReader), which reads AWS's numbers as 186-bit integers with
// version 2 in bits 187..184 and the shard's index in bits 35..4. Within a
// shard the numbers of a PutRecords batch grow as big integers, and every
// number of a split's children exceeds every number of the parent. A
// 38-digit number of earlier releases still works as a checkpoint.
func TestSequenceNumberFormat(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		name := aws.String("seqfmt-" + c.name)
		if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		pattern := regexp.MustCompile(`^(?:0|([1-9]\d{0,128}))$`)
		shardIDPattern := regexp.MustCompile(`^shardId-\d{12}$`)
		last := map[string]*big.Int{}
		check := func(shardID, seq string) *big.Int {
			t.Helper()
			n, ok := new(big.Int).SetString(seq, 10)
			if !pattern.MatchString(seq) || !ok || !shardIDPattern.MatchString(shardID) {
				t.Fatalf("sequence number %q / shard id %q do not match AWS's patterns", seq, shardID)
			}
			if len(seq) != 56 || n.BitLen() != 186 || new(big.Int).Rsh(n, 184).Uint64()&0xf != 2 {
				t.Fatalf("%s: %d digits, %d bits; want 56 digits, 186 bits, version 2", seq, len(seq), n.BitLen())
			}
			if kcl := fmt.Sprintf("shardId-%012d", new(big.Int).Rsh(n, 4).Uint64()&0xffffffff); kcl != shardID {
				t.Fatalf("%s decodes to %s, record is in %s", seq, kcl, shardID)
			}
			if prev := last[shardID]; prev != nil && n.Cmp(prev) <= 0 {
				t.Fatalf("%s: %s does not exceed the previous %s", shardID, seq, prev)
			}
			last[shardID] = n
			return n
		}
		put := func(n int) {
			var entries []types.PutRecordsRequestEntry
			for i := 0; i < n; i++ {
				entries = append(entries, types.PutRecordsRequestEntry{Data: []byte("x"), PartitionKey: aws.String(fmt.Sprint(i))})
			}
			out, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, Records: entries})
			if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("PutRecords: %v", err)
			}
			for _, r := range out.Records {
				check(*r.ShardId, *r.SequenceNumber)
			}
		}
		put(100)
		parentMax := new(big.Int)
		for _, n := range last {
			if n.Cmp(parentMax) > 0 {
				parentMax = n
			}
		}
		if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
			t.Fatal(err)
		}
		// Streams have no update delay here: the split is done on return.
		d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range d.StreamDescription.Shards {
			delete(last, *sh.ShardId)
			check(*sh.ShardId, *sh.SequenceNumberRange.StartingSequenceNumber)
			delete(last, *sh.ShardId) // the first record has the starting number
			if sh.ParentShardId != nil {
				if start, _ := new(big.Int).SetString(*sh.SequenceNumberRange.StartingSequenceNumber, 10); start.Cmp(parentMax) <= 0 {
					t.Fatalf("child %s starts at %s, not above the parents' %s", *sh.ShardId, start, parentMax)
				}
			}
		}
		put(100)

		// A checkpoint in the 38-digit form of earlier releases (key<<64 |
		// position, with the key in bits 163..100 and the position in bits
		// 99..36 of today's number) still names its record.
		out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, Data: []byte("legacy"), PartitionKey: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := new(big.Int).SetString(*out.SequenceNumber, 10)
		mask := new(big.Int).SetUint64(^uint64(0))
		key := new(big.Int).And(new(big.Int).Rsh(n, 100), mask)
		pos := new(big.Int).And(new(big.Int).Rsh(n, 36), mask)
		legacy := new(big.Int).Or(new(big.Int).Lsh(key, 64), pos).String()
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: out.ShardId,
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(legacy)})
		if err != nil {
			t.Fatalf("GetShardIterator at legacy %s: %v", legacy, err)
		}
		got, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil || len(got.Records) != 1 || *got.Records[0].SequenceNumber != *out.SequenceNumber {
			t.Fatalf("GetRecords at legacy %s: %v %v", legacy, got, err)
		}
	})
}
