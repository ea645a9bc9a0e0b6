package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

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
