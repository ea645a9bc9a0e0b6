package server

import (
	"testing"

	"github.com/shardlog/shardlog/server/wire"
)

// TestValidationBeforeExistence: every operation checks its request against
// the model's constraints (lengths, patterns, ranges, enums) before it looks
// for the stream, consumer or resource it names, as AWS does: a malformed
// request about a stream that does not exist is ValidationException, not
// ResourceNotFoundException. Source: kinesalite's test suite, written
// against AWS, where each action's "should return ValidationException"
// cases name streams that do not exist (e.g. test/addTagsToStream.js,
// test/describeStream.js, test/getShardIterator.js); the AWS API reference
// lists ValidationException for constraint violations.
func TestValidationBeforeExistence(t *testing.T) {
	e := newEnv(t)
	const arn = `"arn:aws:kinesis:us-east-1:000000000000:stream/nope"`
	const consumerARN = `"arn:aws:kinesis:us-east-1:000000000000:stream/nope/consumer/c:1"`
	long := `"` + string(make129()) + `"`
	cases := []struct{ op, body string }{
		{"AddTagsToStream", `{"StreamName":"nope","Tags":{` + long + `:"v"}}`},
		{"RemoveTagsFromStream", `{"StreamName":"nope","TagKeys":[]}`},
		{"ListTagsForStream", `{"StreamName":"nope","Limit":0}`},
		{"TagResource", `{"ResourceARN":` + arn + `,"Tags":{` + long + `:"v"}}`},
		{"UntagResource", `{"ResourceARN":` + arn + `,"TagKeys":[]}`},
		{"DescribeStream", `{"StreamName":"nope","Limit":0}`},
		{"ListShards", `{"StreamName":"nope","MaxResults":0}`},
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"a/b","ShardIteratorType":"LATEST"}`},
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"shardId-000000000000","ShardIteratorType":"SIDEWAYS"}`},
		{"PutRecord", `{"StreamName":"nope","PartitionKey":"","Data":""}`},
		{"PutRecords", `{"StreamName":"nope","Records":[]}`},
		{"MergeShards", `{"StreamName":"nope","ShardToMerge":"a/b","AdjacentShardToMerge":"shardId-000000000001"}`},
		{"SplitShard", `{"StreamName":"nope","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"x"}`},
		{"UpdateShardCount", `{"StreamName":"nope","TargetShardCount":0,"ScalingType":"UNIFORM_SCALING"}`},
		{"UpdateShardCount", `{"StreamName":"nope","TargetShardCount":2,"ScalingType":"NONUNIFORM"}`},
		{"UpdateStreamMode", `{"StreamARN":` + arn + `,"StreamModeDetails":{"StreamMode":"SOMETIMES"}}`},
		{"EnableEnhancedMonitoring", `{"StreamName":"nope","ShardLevelMetrics":["Everything"]}`},
		{"DisableEnhancedMonitoring", `{"StreamName":"nope","ShardLevelMetrics":["Everything"]}`},
		{"StartStreamEncryption", `{"StreamName":"nope","EncryptionType":"ROT13","KeyId":"k"}`},
		{"StopStreamEncryption", `{"StreamName":"nope","EncryptionType":"ROT13","KeyId":"k"}`},
		{"RegisterStreamConsumer", `{"StreamARN":` + arn + `,"ConsumerName":"a/b"}`},
		{"DescribeStreamConsumer", `{"StreamARN":` + arn + `,"ConsumerName":"a/b"}`},
		{"DeregisterStreamConsumer", `{"StreamARN":` + arn + `,"ConsumerName":"a/b"}`},
		{"ListStreamConsumers", `{"StreamARN":` + arn + `,"MaxResults":0}`},
		{"SubscribeToShard", `{"ConsumerARN":` + consumerARN + `,"ShardId":"a/b","StartingPosition":{"Type":"LATEST"}}`},
		{"UpdateMaxRecordSize", `{"StreamARN":` + arn + `,"MaxRecordSizeInKiB":1}`},
		{"IncreaseStreamRetentionPeriod", `{"StreamName":"nope"}`},
		{"DecreaseStreamRetentionPeriod", `{"StreamName":"nope"}`},
		{"PutResourcePolicy", `{"ResourceARN":` + arn + `}`},
		{"GetResourcePolicy", `{"ResourceARN":"x"}`},
		{"DeleteResourcePolicy", `{"ResourceARN":"x"}`},
		{"DescribeStreamSummary", `{"StreamName":"a/b"}`},
		{"DeleteStream", `{"StreamName":"a/b"}`},
	}
	e.each(t, func(t *testing.T, c testClient) {
		for _, tc := range cases {
			r := c.call(t, e.addr, tc.op, tc.body)
			if r.status != 400 || r.body["__type"] != wire.Validation {
				t.Errorf("%s %s: %d %v %.200v, want ValidationException", tc.op, tc.body, r.status, r.body["__type"], r.body["message"])
			}
		}
	})
}

func make129() []byte {
	b := make([]byte, 129)
	for i := range b {
		b[i] = 'k'
	}
	return b
}
