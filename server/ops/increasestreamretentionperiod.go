package ops

import (
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// maxRetentionHours is the longest retention period Kinesis allows.
const maxRetentionHours = int(shard.MaxRetention / time.Hour)

type streamRetentionInput struct {
	StreamName           *string
	StreamARN            *string
	RetentionPeriodHours *int
}

// increaseStreamRetentionPeriod answers IncreaseStreamRetentionPeriod.
func (s *Service) increaseStreamRetentionPeriod(in *streamRetentionInput) (*emptyOutput, error) {
	return s.setRetention(in, true)
}

// setRetention is Increase- (increase true) and
// DecreaseStreamRetentionPeriod: the new period must lie between 24 h and
// 8760 h, as in AWS (a local retention floor shortens how long a 24-hour
// stream keeps records, never the period reported), and must not go the
// other way than the operation's name says; the same period is accepted.
func (s *Service) setRetention(in *streamRetentionInput, increase bool) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	hours := *in.RetentionPeriodHours
	const minHours = int(shard.DefaultRetention / time.Hour)
	switch current := st.Info().RetentionHours; {
	case hours < minHours:
		return nil, wire.Errorf(wire.InvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minHours, hours)
	case hours > maxRetentionHours:
		return nil, wire.Errorf(wire.InvalidArgument, "Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", maxRetentionHours, hours)
	case increase && hours < current:
		return nil, wire.Errorf(wire.InvalidArgument, "Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, st.Name(), current)
	case !increase && hours > current:
		return nil, wire.Errorf(wire.InvalidArgument, "Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, st.Name(), current)
	}
	if err := st.SetRetentionHours(hours); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
