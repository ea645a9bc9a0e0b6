package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// scalingUniform is the only ScalingType.
const scalingUniform = "UNIFORM_SCALING"

type updateShardCountInput struct {
	StreamName       *string
	StreamARN        *string
	TargetShardCount *int
	ScalingType      *string
}

type updateShardCountOutput struct {
	StreamName        string
	StreamARN         string
	CurrentShardCount int
	TargetShardCount  int
}

// updateShardCount answers UpdateShardCount: every open shard is closed and
// TargetShardCount children split the hash-key space evenly. As in AWS the
// target may be at most double and at least half the open shard count
// (LimitExceededException otherwise), and neither it nor the account's
// resulting open shards may pass the shard limit.
func (s *Service) updateShardCount(in *updateShardCountInput) (*updateShardCountOutput, error) {
	var v wire.Validator
	v.NotNull("scalingType", in.ScalingType != nil)
	v.Enum("scalingType", in.ScalingType, scalingUniform)
	v.StreamName("streamName", in.StreamName)
	v.NotNull("targetShardCount", in.TargetShardCount != nil)
	v.IntRange("targetShardCount", in.TargetShardCount, 1, 1<<31-1)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	target, current := *in.TargetShardCount, len(st.OpenShards())
	switch {
	case target > s.opts.ShardLimit:
		return nil, wire.Errorf(wire.LimitExceeded, "Target shard count or number of open shards cannot be greater than %d. Current open shard count: %d, Target shard count: %d",
			s.opts.ShardLimit, current, target)
	case target > 2*current:
		return nil, wire.Errorf(wire.LimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d, Target shard count: %d", current, target)
	case 2*target < current:
		return nil, wire.Errorf(wire.LimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d, Target shard count: %d", current, target)
	case target == current:
		return nil, wire.Errorf(wire.InvalidArgument, "Target shard count %d is the same as the current open shard count of stream %s under account %s.", target, st.Name(), s.store.Options().AccountID)
	}
	if !s.limiter.AdmitScale(st.Name(), s.limits.Load().UpdateShardCountPerDay) {
		return nil, wire.Errorf(wire.LimitExceeded, "Stream %s under account %s has reached the limit of %d UpdateShardCount calls in a rolling 24-hour period.",
			st.Name(), s.store.Options().AccountID, s.limits.Load().UpdateShardCountPerDay)
	}
	err = st.UpdateShardCount(target)
	if errors.Is(err, shard.ErrBadShardCount) {
		return nil, wire.Errorf(wire.InvalidArgument, "Target shard count %d is not valid for stream %s with %d open shards.", target, st.Name(), current)
	}
	if err := s.reshardError(st, "", s.accountLimitError(err, st.Name())); err != nil {
		return nil, err
	}
	return &updateShardCountOutput{StreamName: st.Name(), StreamARN: st.ARN(), CurrentShardCount: current, TargetShardCount: target}, nil
}
