package ops

import "github.com/shardlog/shardlog/server/wire"

// Bounds of MaxRecordSizeInKiB: 1 MiB to 10 MiB.
const (
	minMaxRecordSizeKiB = 1024
	maxMaxRecordSizeKiB = 10240
)

type updateMaxRecordSizeInput struct {
	StreamARN          *string
	MaxRecordSizeInKiB *int
}

// updateMaxRecordSize answers UpdateMaxRecordSize: the largest record an
// ACTIVE stream, named by StreamARN, accepts and returns, between 1024 and
// 10240 KiB (ValidationException outside). It takes effect for the next
// PutRecord(s) call.
func (s *Service) updateMaxRecordSize(in *updateMaxRecordSizeInput) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil)
	v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, minMaxRecordSizeKiB, maxMaxRecordSizeKiB)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.StreamARN == nil {
		return nil, wire.Errorf(wire.InvalidArgument, "StreamARN must be provided.")
	}
	st, err := s.lookupStream(nil, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	if err := st.SetMaxRecordSize(*in.MaxRecordSizeInKiB); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
