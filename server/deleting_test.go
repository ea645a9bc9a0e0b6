package server

import (
	"errors"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/shardlog/shardlog/shard"
)

// Sources the cases below follow, newest first where they disagree:
//
//   - awsDeleteStream: the AWS API reference for DeleteStream (as shipped in
//     aws-sdk-go-v2 service/kinesis v1.56): the stream is DELETING until the
//     deletion completes, DescribeStreamSummary shows that state, and
//     PutRecord, PutRecords and GetRecords may keep working until then;
//     after it, operations get ResourceNotFoundException.
//   - awsInUse: the AWS API reference's ResourceInUseException, "the
//     resource must be in the ACTIVE state", for a change to a DELETING
//     stream (kinesalite's deleteStream accepts a second DeleteStream; we
//     follow AWS's error list instead).
//   - awsWaiter: the StreamNotExists waiter in aws-sdk-go-v2
//     api_op_DescribeStream.go, which retries DescribeStream until
//     ResourceNotFoundException, so DescribeStream must keep answering.
//   - kinesalite: kinesalite test/deleteStream.js describes a deleted stream
//     as DELETING until it is gone.
const (
	awsDeleteStream = "AWS DeleteStream reference"
	awsInUse        = "AWS ResourceInUseException"
	awsWaiter       = "aws-sdk-go-v2 StreamNotExists waiter"
	kinesalite      = "kinesalite test/deleteStream.js"
)

// deletingCase is one operation on the deleted stream and what it
// answers: errType "" for success.
type deletingCase struct {
	op, source string
	call       func(c testClient, it string) error
	errType    string
}

// deletingCases lists every operation that names the stream, with its
// answer while DELETING (during) or after the DeleteDelay (after).
func deletingCases(stream string, during bool) []deletingCase {
	name := aws.String(stream)
	gone := wire.ResourceNotFound
	pick := func(whileDeleting string) string {
		if during {
			return whileDeleting
		}
		return gone
	}
	return []deletingCase{
		{"DescribeStream", awsWaiter + ", " + kinesalite, func(c testClient, _ string) error {
			d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
			if err == nil && d.StreamDescription.StreamStatus != types.StreamStatusDeleting {
				return errStatus(d.StreamDescription.StreamStatus)
			}
			return err
		}, pick("")},
		{"DescribeStreamSummary", awsDeleteStream, func(c testClient, _ string) error {
			d, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
			if err == nil && d.StreamDescriptionSummary.StreamStatus != types.StreamStatusDeleting {
				return errStatus(d.StreamDescriptionSummary.StreamStatus)
			}
			return err
		}, pick("")},
		{"ListShards", awsDeleteStream, func(c testClient, _ string) error {
			_, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
			return err
		}, pick("")},
		{"ListTagsForStream", awsDeleteStream, func(c testClient, _ string) error {
			_, err := c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: name})
			return err
		}, pick("")},
		{"PutRecord", awsDeleteStream, func(c testClient, _ string) error {
			_, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String("k"), Data: []byte("late")})
			return err
		}, pick("")},
		{"PutRecords", awsDeleteStream, func(c testClient, _ string) error {
			_, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name,
				Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("late")}}})
			return err
		}, pick("")},
		{"GetShardIterator", awsDeleteStream, func(c testClient, _ string) error {
			_, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name,
				ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			return err
		}, pick("")},
		{"GetRecords (iterator issued before DeleteStream)", awsDeleteStream, func(c testClient, it string) error {
			_, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			return err
		}, pick("")},
		{"AddTagsToStream", awsInUse, func(c testClient, _ string) error {
			_, err := c.sdk.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: name, Tags: map[string]string{"a": "b"}})
			return err
		}, pick(wire.ResourceInUse)},
		{"IncreaseStreamRetentionPeriod", awsInUse, func(c testClient, _ string) error {
			_, err := c.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)})
			return err
		}, pick(wire.ResourceInUse)},
		{"SplitShard", awsInUse, func(c testClient, _ string) error {
			_, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("10")})
			return err
		}, pick(wire.ResourceInUse)},
		{"DeleteStream (again)", awsInUse, func(c testClient, _ string) error {
			_, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name})
			return err
		}, pick(wire.ResourceInUse)},
		{"CreateStream (same name)", awsDeleteStream + " (the name is taken until the deletion completes)", func(c testClient, _ string) error {
			_, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1)})
			if err == nil {
				// After the delay the name is free: take it back out, so the
				// next client's case starts from the same state.
				_, err = c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name})
				if err != nil {
					return err
				}
				return errStatus("created")
			}
			return err
		}, map[bool]string{true: wire.ResourceInUse, false: "created"}[during]},
	}
}

// errStatus is a test failure that carries an unexpected status.
type errStatus string

func (e errStatus) Error() string { return "status " + string(e) }

// runDeletingCases runs every case on one client.
func runDeletingCases(t *testing.T, c testClient, stream string, during bool, it string) {
	t.Helper()
	for _, tc := range deletingCases(stream, during) {
		err := tc.call(c, it)
		switch {
		case tc.errType == "" && err != nil:
			t.Errorf("%s (%s): %v, want success", tc.op, tc.source, err)
		case tc.errType == "created":
			if s, ok := err.(errStatus); !ok || s != "created" {
				t.Errorf("%s (%s): %v, want the name free", tc.op, tc.source, err)
			}
		case tc.errType != "":
			if apiErrorType(err) != tc.errType {
				t.Errorf("%s (%s): %v, want %s", tc.op, tc.source, err, tc.errType)
			}
		}
	}
}

// listedStatus reports whether ListStreams lists stream, and with what status.
func listedStatus(t *testing.T, c testClient, stream string) (types.StreamStatus, bool) {
	t.Helper()
	out, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.StreamSummaries {
		if *s.StreamName == stream {
			return s.StreamStatus, true
		}
	}
	return "", false
}

// TestDeletingStream checks, operation by operation, what a DELETING
// stream answers (DeleteDelay of an hour, so it stays DELETING throughout)
// and what it answers once its DeleteDelay is over.
func TestDeletingStream(t *testing.T) {
	for _, during := range []bool{true, false} {
		phase := map[bool]string{true: "during", false: "after"}[during]
		t.Run(phase, func(t *testing.T) {
			delay := 300 * time.Millisecond
			if during {
				delay = time.Hour
			}
			e := newEnvWithStore(t, func(o *shard.Options) { o.DeleteDelay = delay })
			for _, c := range e.clients {
				stream := "doomed-" + c.name
				if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
					t.Fatal(err)
				}
				it := iter(t, c, stream, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil)
				if _, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)}); err != nil {
					t.Fatal(err)
				}
				if !during {
					waitGone(t, c, stream, 10*time.Second)
				}
				status, ok := listedStatus(t, c, stream)
				if during && (!ok || status != types.StreamStatusDeleting) || !during && ok {
					t.Fatalf("%s: ListStreams lists it %v with status %q (%s)", c.name, ok, status, awsDeleteStream)
				}
				runDeletingCases(t, c, stream, during, it)
			}
		})
	}
}

// waitGone polls DescribeStream until stream is ResourceNotFound.
func waitGone(t *testing.T, c testClient, stream string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
		if apiErrorType(err) == wire.ResourceNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still there after %s: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiErrorType is the __type of an SDK error, "" for any other error.
func apiErrorType(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
