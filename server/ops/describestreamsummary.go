package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

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
