package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

type updateStreamRecordDistributionStrategyInput struct {
	StreamARN                  *string
	RecordDistributionStrategy *string
}

// updateStreamRecordDistributionStrategy answers
// UpdateStreamRecordDistributionStrategy: how PutRecord(s) place the records
// of a stream named by StreamARN, by partition key (USER_PARTITION_KEY, the
// default) or spread evenly over the open shards (AUTO). AUTO needs an
// ON_DEMAND stream (InvalidArgumentException otherwise). The change applies
// to the next record; records already stored stay where they are.
func (s *Service) updateStreamRecordDistributionStrategy(in *updateStreamRecordDistributionStrategyInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("recordDistributionStrategy", in.RecordDistributionStrategy != nil)
	v.Enum("recordDistributionStrategy", in.RecordDistributionStrategy, shard.DistributionAuto, shard.DistributionUserPartitionKey)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	strategy := *in.RecordDistributionStrategy
	if mode := st.Info().Mode; strategy == shard.DistributionAuto && mode != shard.ModeOnDemand {
		return nil, wire.Errorf(wire.InvalidArgument, "The AUTO record distribution strategy is only supported for ON_DEMAND streams; stream %s under account %s is %s.",
			st.Name(), s.store.Options().AccountID, mode)
	}
	if err := st.SetRecordDistribution(strategy); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
