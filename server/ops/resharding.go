package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

type splitShardInput struct {
	StreamName         *string
	StreamARN          *string
	ShardToSplit       *string
	NewStartingHashKey *string
}

// splitShard answers SplitShard: the open shard is closed and two children
// take [start, key-1] and [key, end] of its hash range. As in AWS, the key
// must be greater than one plus the shard's starting hash key and less than
// its ending hash key, and the stream must be ACTIVE.
func (s *Service) splitShard(in *splitShardInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("newStartingHashKey", in.NewStartingHashKey != nil)
	v.Str("newStartingHashKey", in.NewStartingHashKey, 0, -1, wire.HashKeyPattern)
	v.NotNull("shardToSplit", in.ShardToSplit != nil)
	v.Str("shardToSplit", in.ShardToSplit, 1, 128, wire.ShardIDPattern)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	sh, err := s.shardToReshard(st, *in.ShardToSplit)
	if err != nil {
		return nil, err
	}
	r := sh.HashRange()
	key, err := shard.ParseHashKey(*in.NewStartingHashKey)
	if err != nil || key.Cmp(r.Start.Add1()) <= 0 || key.Cmp(r.End) >= 0 {
		return nil, wire.Errorf(wire.InvalidArgument, "NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			*in.NewStartingHashKey, sh.ID(), st.Name(), s.store.Options().AccountID, r.Start, r.End)
	}
	if err := s.reshardError(st, sh.ID(), s.accountLimitError(st.SplitShard(sh.ID(), key), st.Name())); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// shardToReshard finds the open shard id (in any form AWS accepts) of st,
// with AWS's errors for a missing or closed one.
func (s *Service) shardToReshard(st *shard.Stream, id string) (*shard.Shard, error) {
	sh, err := st.Shard(normalizeShardID(id))
	if errors.Is(err, shard.ErrShardNotFound) {
		return nil, wire.Errorf(wire.ResourceNotFound, "Could not find shard %s in stream %s under account %s.", id, st.Name(), s.store.Options().AccountID)
	} else if err != nil {
		return nil, err
	}
	if sh.Closed() {
		return nil, s.shardClosed(st.Name(), sh.ID())
	}
	return sh, nil
}

// shardClosed is AWS's answer to resharding a shard that is already closed.
func (s *Service) shardClosed(stream, id string) *wire.APIError {
	return wire.Errorf(wire.InvalidArgument, "Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.",
		id, stream, s.store.Options().AccountID)
}

// reshardError words the errors of a shard resharding call (err, about
// shard id of st) that a concurrent change can still cause after the
// checks: the stream left ACTIVE or the shard closed meanwhile.
func (s *Service) reshardError(st *shard.Stream, id string, err error) error {
	switch {
	case errors.Is(err, shard.ErrNotActive):
		return s.notActive(st.Name(), st.Status())
	case errors.Is(err, shard.ErrShardClosed):
		return s.shardClosed(st.Name(), id)
	case errors.Is(err, shard.ErrStreamNotFound):
		return s.streamNotFound(st.Name())
	}
	return err
}

type mergeShardsInput struct {
	StreamName           *string
	StreamARN            *string
	ShardToMerge         *string
	AdjacentShardToMerge *string
}

// mergeShards answers MergeShards: two open shards whose hash ranges touch
// are closed and one child takes both ranges, naming ShardToMerge its
// parent and AdjacentShardToMerge its adjacent parent.
func (s *Service) mergeShards(in *mergeShardsInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("shardToMerge", in.ShardToMerge != nil)
	v.Str("shardToMerge", in.ShardToMerge, 1, 128, wire.ShardIDPattern)
	v.NotNull("adjacentShardToMerge", in.AdjacentShardToMerge != nil)
	v.Str("adjacentShardToMerge", in.AdjacentShardToMerge, 1, 128, wire.ShardIDPattern)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	a, err := s.shardToReshard(st, *in.ShardToMerge)
	if err != nil {
		return nil, err
	}
	b, err := s.shardToReshard(st, *in.AdjacentShardToMerge)
	if err != nil {
		return nil, err
	}
	err = st.MergeShards(a.ID(), b.ID())
	if errors.Is(err, shard.ErrNotAdjacent) {
		return nil, wire.Errorf(wire.InvalidArgument, "Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			a.ID(), b.ID(), st.Name(), s.store.Options().AccountID)
	}
	if err := s.reshardError(st, a.ID(), err); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

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
