package ops

import (
	"math"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

type updateStreamModeInput struct {
	StreamARN           *string
	StreamModeDetails   *streamModeDetailsInput
	WarmThroughputMiBps *int
}

// updateStreamMode answers UpdateStreamMode: it switches an ACTIVE stream,
// named by StreamARN only, between PROVISIONED and ON_DEMAND and turns it
// UPDATING for the store's UpdateDelay. Switching to the mode the stream is
// already in is InvalidArgumentException; so is WarmThroughputMiBps unless
// the new mode is ON_DEMAND and the account has a minimum throughput billing
// commitment. Going ON_DEMAND past Options.OnDemandStreamLimit streams is
// LimitExceededException. A stream leaving ON_DEMAND drops its warm
// throughput.
func (s *Service) updateStreamMode(in *updateStreamModeInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("streamModeDetails", in.StreamModeDetails != nil)
	if d := in.StreamModeDetails; d != nil {
		v.NotNull("streamModeDetails.streamMode", d.StreamMode != nil)
		v.Enum("streamModeDetails.streamMode", d.StreamMode, string(shard.ModeProvisioned), string(shard.ModeOnDemand))
	}
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, math.MaxInt32)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	mode := shard.StreamMode(*in.StreamModeDetails.StreamMode)
	info := st.Info()
	if info.Mode == mode {
		return nil, wire.Errorf(wire.InvalidArgument, "Stream %s under account %s is already in %s mode.", st.Name(), s.store.Options().AccountID, mode)
	}
	if in.WarmThroughputMiBps != nil {
		if err := s.checkWarmThroughput(st.Name(), mode, *in.WarmThroughputMiBps); err != nil {
			return nil, err
		}
	}
	if err := st.SetMode(mode); err != nil { // checks the on-demand stream limit
		return nil, s.accountLimitError(err, st.Name())
	}
	warm := 0
	if in.WarmThroughputMiBps != nil {
		warm = *in.WarmThroughputMiBps
	}
	if warm != info.WarmThroughputMiBps {
		if err := st.SetWarmThroughput(warm); err != nil {
			return nil, err
		}
	}
	return &emptyOutput{}, nil
}
