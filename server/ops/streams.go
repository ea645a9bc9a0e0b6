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

type deleteStreamInput struct {
	StreamName *string
	StreamARN  *string
	// EnforceConsumerDeletion deletes a stream that has registered
	// consumers (and ends their subscriptions); without it such a stream is
	// refused with ResourceInUseException.
	EnforceConsumerDeletion *bool
}

// deleteStream answers DeleteStream. The stream is DELETING for the store's
// DeleteDelay, then gone; a stream in any state but DELETING, CREATING
// included, may be deleted (lookupStream's needChange).
func (s *Service) deleteStream(in *deleteStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	consumers := st.Consumers()
	if len(consumers) > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, wire.Errorf(wire.ResourceInUse, "Stream %s under account %s has registered consumers. Deregister them or use EnforceConsumerDeletion.", st.Name(), s.store.Options().AccountID)
	}
	for _, c := range consumers {
		s.subs.endConsumer(c.ARN, s.consumerNotFound(c.ARN))
	}
	switch err := s.store.DeleteStream(st.Name()); {
	case errors.Is(err, shard.ErrStreamNotFound):
		return nil, s.streamNotFound(st.Name())
	case errors.Is(err, shard.ErrNotActive):
		// Another DeleteStream got there since lookupStream.
		return nil, s.notActive(st.Name(), shard.StatusDeleting)
	case err != nil:
		return nil, err
	}
	return &emptyOutput{}, nil
}

// describeStreamMaxShards is the most shards DescribeStream returns per
// call, and its default Limit.
const describeStreamMaxShards = 100

type describeStreamInput struct {
	StreamName            *string
	StreamARN             *string
	Limit                 *int
	ExclusiveStartShardId *string
}

type describeStreamOutput struct {
	StreamDescription streamDescription
}

// streamDescription is the Kinesis StreamDescription structure.
type streamDescription struct {
	StreamName              string
	StreamARN               string
	StreamStatus            shard.StreamStatus
	StreamModeDetails       streamModeDetails
	Shards                  []shardDescription
	HasMoreShards           bool
	RetentionPeriodHours    int
	StreamCreationTimestamp wire.EpochTime
	EnhancedMonitoring      []enhancedMetrics
	EncryptionType          string
	KeyId                   string `json:",omitempty"`
}

// streamModeDetails is the Kinesis StreamModeDetails structure.
type streamModeDetails struct {
	StreamMode shard.StreamMode
}

// enhancedMetrics is the Kinesis EnhancedMetrics structure.
type enhancedMetrics struct {
	ShardLevelMetrics []string
}

// shardDescription is the Kinesis Shard structure.
type shardDescription struct {
	ShardId               string
	ParentShardId         string `json:",omitempty"`
	AdjacentParentShardId string `json:",omitempty"`
	HashKeyRange          hashKeyRange
	SequenceNumberRange   sequenceNumberRange
}

// hashKeyRange is the Kinesis HashKeyRange structure.
type hashKeyRange struct {
	StartingHashKey string
	EndingHashKey   string
}

// sequenceNumberRange is the Kinesis SequenceNumberRange structure; a shard
// has an EndingSequenceNumber once it is closed.
type sequenceNumberRange struct {
	StartingSequenceNumber string
	EndingSequenceNumber   string `json:",omitempty"`
}

// describeStream answers DescribeStream: the stream's metadata and a page
// of its shards (none while it is CREATING, as in AWS).
func (s *Service) describeStream(in *describeStreamInput) (*describeStreamOutput, error) {
	var v wire.Validator
	v.IntRange("limit", in.Limit, 1, 10000)
	v.Str("exclusiveStartShardId", in.ExclusiveStartShardId, 1, 128, wire.ShardIDPattern)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	limit := describeStreamMaxShards
	if in.Limit != nil && *in.Limit < limit {
		limit = *in.Limit
	}
	out := &describeStreamOutput{StreamDescription: streamDescription{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       streamModeDetails{StreamMode: info.Mode},
		Shards:                  []shardDescription{},
		RetentionPeriodHours:    info.RetentionHours,
		StreamCreationTimestamp: wire.EpochTime{Time: info.CreatedAt},
		EnhancedMonitoring:      enhancedMonitoring(info),
		EncryptionType:          info.EncryptionType,
		KeyId:                   info.KeyID,
	}}
	if info.Status == shard.StatusCreating {
		return out, nil
	}
	after := ""
	if in.ExclusiveStartShardId != nil {
		after = normalizeShardID(*in.ExclusiveStartShardId)
	}
	for _, sh := range st.Shards() {
		if sh.ID() <= after {
			continue
		}
		if len(out.StreamDescription.Shards) == limit {
			out.StreamDescription.HasMoreShards = true
			break
		}
		out.StreamDescription.Shards = append(out.StreamDescription.Shards, describeShard(sh))
	}
	return out, nil
}

// enhancedMonitoring is the EnhancedMonitoring member: one entry listing
// the enabled shard-level metrics, an empty list when there are none.
func enhancedMonitoring(info shard.StreamInfo) []enhancedMetrics {
	metrics := info.EnhancedMetrics
	if metrics == nil {
		metrics = []string{}
	}
	return []enhancedMetrics{{ShardLevelMetrics: metrics}}
}

// describeShard is the Shard structure of sh. Shard ids are zero-padded,
// so comparing them as strings orders them by index.
func describeShard(sh *shard.Shard) shardDescription {
	r := sh.HashRange()
	return shardDescription{
		ShardId:               sh.ID(),
		ParentShardId:         sh.Parent(),
		AdjacentParentShardId: sh.AdjacentParent(),
		HashKeyRange:          hashKeyRange{StartingHashKey: r.Start.String(), EndingHashKey: r.End.String()},
		SequenceNumberRange: sequenceNumberRange{
			StartingSequenceNumber: sh.StartingSequenceNumber(),
			EndingSequenceNumber:   sh.EndingSequenceNumber(),
		},
	}
}

type describeStreamSummaryInput struct {
	StreamName *string
	StreamARN  *string
}

type describeStreamSummaryOutput struct {
	StreamDescriptionSummary streamDescriptionSummary
}

// streamDescriptionSummary is the Kinesis StreamDescriptionSummary structure.
type streamDescriptionSummary struct {
	StreamName                 string
	StreamARN                  string
	StreamStatus               shard.StreamStatus
	StreamModeDetails          streamModeDetails
	RetentionPeriodHours       int
	StreamCreationTimestamp    wire.EpochTime
	EnhancedMonitoring         []enhancedMetrics
	EncryptionType             string
	KeyId                      string `json:",omitempty"`
	OpenShardCount             int
	ConsumerCount              int
	MaxRecordSizeInKiB         int
	WarmThroughput             *warmThroughput `json:",omitempty"`
	RecordDistributionStrategy string          `json:",omitempty"`
}

// warmThroughput is the Kinesis WarmThroughputObject structure. shardlog
// has no throughput limits, so the current warm throughput is the target.
type warmThroughput struct {
	TargetMiBps  int
	CurrentMiBps int
}

// describeStreamSummary answers DescribeStreamSummary. A CREATING stream
// reports no open shards yet, as DescribeStream lists none. WarmThroughput
// and RecordDistributionStrategy are reported for ON_DEMAND streams only, as
// AWS does (and WarmThroughput for any stream that has one set).
func (s *Service) describeStreamSummary(in *describeStreamSummaryInput) (*describeStreamSummaryOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	out := &describeStreamSummaryOutput{StreamDescriptionSummary: streamDescriptionSummary{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       streamModeDetails{StreamMode: info.Mode},
		RetentionPeriodHours:    info.RetentionHours,
		StreamCreationTimestamp: wire.EpochTime{Time: info.CreatedAt},
		EnhancedMonitoring:      enhancedMonitoring(info),
		EncryptionType:          info.EncryptionType,
		KeyId:                   info.KeyID,
		OpenShardCount:          info.OpenShardCount,
		ConsumerCount:           len(st.Consumers()),
		MaxRecordSizeInKiB:      info.MaxRecordSizeKiB,
	}}
	sum := &out.StreamDescriptionSummary
	if info.Status == shard.StatusCreating {
		sum.OpenShardCount = 0
	}
	if info.Mode == shard.ModeOnDemand || info.WarmThroughputMiBps > 0 {
		sum.WarmThroughput = &warmThroughput{TargetMiBps: info.WarmThroughputMiBps, CurrentMiBps: info.WarmThroughputMiBps}
	}
	if info.Mode == shard.ModeOnDemand {
		sum.RecordDistributionStrategy = info.Distribution
	}
	return out, nil
}

// listStreamsMaxStreams is the most streams ListStreams returns per call,
// and its default Limit.
const listStreamsMaxStreams = 100

// streamsToken is the content of a ListStreams NextToken (its JSON,
// sealed by wire.Tokens.Streams): the last stream name returned. It names no
// resource to authorize (ListStreams is judged on "*") and, as in AWS, does
// not expire; it is sealed so that no token shardlog issues can be read or
// made by a client.
type streamsToken struct {
	After string `json:"a"`
}

type listStreamsInput struct {
	Limit                    *int
	ExclusiveStartStreamName *string
	NextToken                *string
}

type listStreamsOutput struct {
	StreamNames     []string
	HasMoreStreams  bool
	NextToken       string `json:",omitempty"`
	StreamSummaries []streamSummary
}

// streamSummary is the Kinesis StreamSummary structure.
type streamSummary struct {
	StreamName              string
	StreamARN               string
	StreamStatus            shard.StreamStatus
	StreamModeDetails       streamModeDetails
	StreamCreationTimestamp wire.EpochTime
}

// listStreams answers ListStreams: stream names in lexical order after
// ExclusiveStartStreamName or after the position a NextToken carries
// (whichever is further), deleting streams included as in AWS.
func (s *Service) listStreams(in *listStreamsInput) (*listStreamsOutput, error) {
	var v wire.Validator
	v.IntRange("limit", in.Limit, 1, 10000)
	v.StreamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = *in.ExclusiveStartStreamName
	}
	if in.NextToken != nil {
		var tok streamsToken
		if s.tokens.Streams.OpenJSON(*in.NextToken, &tok) != nil {
			return nil, wire.Errorf(wire.InvalidArgument, "Invalid NextToken: %s", wire.ClipToken(*in.NextToken))
		}
		after = max(after, tok.After)
	}
	limit := listStreamsMaxStreams
	if in.Limit != nil && *in.Limit < limit {
		limit = *in.Limit
	}
	out := &listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummary{}}
	for _, st := range s.store.Streams() {
		if st.Name() <= after {
			continue
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			tok, err := s.tokens.Streams.SealJSON(streamsToken{After: out.StreamNames[limit-1]})
			if err != nil {
				return nil, err
			}
			out.NextToken = tok
			break
		}
		info := st.Info()
		out.StreamNames = append(out.StreamNames, info.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName:              info.Name,
			StreamARN:               info.ARN,
			StreamStatus:            info.Status,
			StreamModeDetails:       streamModeDetails{StreamMode: info.Mode},
			StreamCreationTimestamp: wire.EpochTime{Time: info.CreatedAt},
		})
	}
	return out, nil
}
