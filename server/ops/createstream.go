package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// onDemandShardCount is how many shards an ON_DEMAND stream created without
// a ShardCount starts with (AWS's initial on-demand capacity is 4 MiB/s).
const onDemandShardCount = 4

// maxStreamTags is how many tags a stream may carry.
const maxStreamTags = shard.MaxTags

type streamModeDetailsInput struct {
	StreamMode *string
}

type createStreamInput struct {
	StreamName                 *string
	ShardCount                 *int
	StreamModeDetails          *streamModeDetailsInput
	Tags                       map[string]string
	WarmThroughputMiBps        *int
	MaxRecordSizeInKiB         *int
	RecordDistributionStrategy *string
}

// emptyOutput is the response of operations that answer nothing but
// success: the operations whose SDK output struct holds only
// ResultMetadata. It is sent as an empty body (Content-Length 0) with the
// request's content type, never as "{}": kinesalite's tests record AWS's
// answer to CreateStream, DeleteStream, MergeShards, SplitShard and
// RemoveTagsFromStream as an empty body of type application/x-amz-json-1.1.
type emptyOutput struct{}

// createStream answers CreateStream. The stream is CREATING for the store's
// CreateDelay, then ACTIVE.
func (s *Service) createStream(in *createStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	v.IntRange("shardCount", in.ShardCount, 1, 1<<31-1)
	v.NotNull("streamName", in.StreamName != nil)
	v.StreamName("streamName", in.StreamName)
	if in.StreamModeDetails != nil {
		v.NotNull("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil)
		v.Enum("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, string(shard.ModeProvisioned), string(shard.ModeOnDemand))
	}
	v.MapLen("tags", in.Tags, in.Tags != nil, 1, 200)
	v.MapEntries("tags", in.Tags, 1, 128, 0, 256)
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 1<<31-1)
	v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, 1024, 10240)
	v.Enum("recordDistributionStrategy", in.RecordDistributionStrategy, shard.DistributionAuto, shard.DistributionUserPartitionKey)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := *in.StreamName
	account := s.store.Options().AccountID
	mode := shard.ModeProvisioned
	switch {
	case in.StreamModeDetails != nil:
		mode = shard.StreamMode(*in.StreamModeDetails.StreamMode)
	case in.ShardCount == nil:
		// Neither a mode nor a shard count: AWS creates the stream with
		// four shards (LocalStack's AWS-validated snapshot
		// test_create_stream_without_shard_count), as an on-demand stream
		// starts.
		mode = shard.ModeOnDemand
	}
	cfg := shard.StreamConfig{Name: name, Mode: mode, Tags: in.Tags}
	switch {
	case in.ShardCount != nil:
		cfg.ShardCount = *in.ShardCount
	case mode == shard.ModeOnDemand:
		cfg.ShardCount = onDemandShardCount
	default:
		return nil, wire.Errorf(wire.InvalidArgument, "ShardCount is required for streams in PROVISIONED mode.")
	}
	if in.RecordDistributionStrategy != nil {
		if *in.RecordDistributionStrategy == shard.DistributionAuto && mode != shard.ModeOnDemand {
			return nil, wire.Errorf(wire.InvalidArgument, "RecordDistributionStrategy AUTO is only supported for streams in ON_DEMAND mode.")
		}
		cfg.Distribution = *in.RecordDistributionStrategy
	}
	if len(in.Tags) > maxStreamTags {
		return nil, wire.Errorf(wire.InvalidArgument, "Failed to create stream %s under account %s because a given stream cannot have more than %d tags associated with it.", name, account, maxStreamTags)
	}
	if in.MaxRecordSizeInKiB != nil {
		cfg.MaxRecordSizeKiB = *in.MaxRecordSizeInKiB
	}
	if in.WarmThroughputMiBps != nil {
		cfg.WarmThroughputMiBps = *in.WarmThroughputMiBps
	}

	// The store checks the account's shard and on-demand stream limits
	// atomically with the creation.
	if _, err := s.store.CreateStream(cfg); errors.Is(err, shard.ErrStreamExists) {
		return nil, s.streamExists(name)
	} else if err != nil {
		return nil, s.accountLimitError(err, name)
	}
	return &emptyOutput{}, nil
}

// streamExists is AWS's ResourceInUseException for a name already taken.
func (s *Service) streamExists(name string) *wire.APIError {
	return wire.Errorf(wire.ResourceInUse, "Stream %s under account %s already exists.", name, s.store.Options().AccountID)
}

// accountLimitError words a *shard.LimitError, the store's refusal of a
// change that would pass an account limit, as AWS does (stream names the
// stream of a consumer limit); any other error is returned as it is.
func (s *Service) accountLimitError(err error, stream string) error {
	var le *shard.LimitError
	if !errors.As(err, &le) {
		return err
	}
	o := s.store.Options()
	switch le.Kind {
	case shard.LimitShards:
		return wire.Errorf(wire.LimitExceeded, "This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. "+
			"Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page "+
			"(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			o.AccountID, o.Region, le.Current, le.Max, le.Additional)
	case shard.LimitOnDemandStreams:
		return wire.Errorf(wire.LimitExceeded, "This request would exceed the on-demand stream count limit for the account %s in %s. Current on-demand stream count for the account: %d. Limit: %d.",
			o.AccountID, o.Region, le.Current, le.Max)
	case shard.LimitConsumers:
		return wire.Errorf(wire.LimitExceeded, "Stream %s under account %s has reached the limit of %d registered consumers.", stream, o.AccountID, le.Max)
	}
	return err
}
