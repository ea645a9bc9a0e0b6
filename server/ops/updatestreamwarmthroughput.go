package ops

import (
	"math"

	"github.com/shardlog/shardlog/server/wire"
)

type updateStreamWarmThroughputInput struct {
	StreamName          *string
	StreamARN           *string
	WarmThroughputMiBps *int
}

type updateStreamWarmThroughputOutput struct {
	StreamName     string
	StreamARN      string
	WarmThroughput warmThroughput
}

// updateStreamWarmThroughput answers UpdateStreamWarmThroughput: the warm
// throughput of an ACTIVE ON_DEMAND stream of an account with a minimum
// throughput billing commitment (InvalidArgumentException otherwise), at
// most 10 GiB/s (LimitExceededException). As AWS does while it scales, the
// response reports the value before the call as CurrentMiBps and the new one
// as TargetMiBps; shardlog has nothing to scale, so the new value is in force
// at once.
func (s *Service) updateStreamWarmThroughput(in *updateStreamWarmThroughputInput) (*updateStreamWarmThroughputOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("warmThroughputMiBps", in.WarmThroughputMiBps != nil)
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, math.MaxInt32)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	target := *in.WarmThroughputMiBps
	if err := s.checkWarmThroughput(st.Name(), info.Mode, target); err != nil {
		return nil, err
	}
	if err := st.SetWarmThroughput(target); err != nil {
		return nil, err
	}
	return &updateStreamWarmThroughputOutput{
		StreamName:     st.Name(),
		StreamARN:      st.ARN(),
		WarmThroughput: warmThroughput{TargetMiBps: target, CurrentMiBps: info.WarmThroughputMiBps},
	}, nil
}
