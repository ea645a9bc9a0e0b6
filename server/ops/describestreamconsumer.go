package ops

import "github.com/shardlog/shardlog/server/wire"

type describeStreamConsumerInput struct {
	StreamARN    *string
	ConsumerName *string
	ConsumerARN  *string
}

type describeStreamConsumerOutput struct {
	ConsumerDescription consumerDescription
}

// describeStreamConsumer answers DescribeStreamConsumer, by ConsumerARN or
// by StreamARN and ConsumerName.
func (s *Service) describeStreamConsumer(in *describeStreamConsumerInput) (*describeStreamConsumerOutput, error) {
	var v wire.Validator
	v.StreamARN("streamARN", in.StreamARN)
	v.ConsumerName("consumerName", in.ConsumerName)
	v.ConsumerARN("consumerARN", in.ConsumerARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	_, c, err := s.consumerFor(in.ConsumerARN, in.ConsumerName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	return &describeStreamConsumerOutput{ConsumerDescription: consumerDescription{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: wire.EpochTime{Time: c.CreatedAt},
		StreamARN:                 c.StreamARN,
	}}, nil
}
