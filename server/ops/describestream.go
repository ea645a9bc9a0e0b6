package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

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
