package server

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
func (s *Server) describeStreamConsumer(in *describeStreamConsumerInput) (*describeStreamConsumerOutput, error) {
	var v validator
	v.streamARN("streamARN", in.StreamARN)
	v.consumerName("consumerName", in.ConsumerName)
	v.consumerARN("consumerARN", in.ConsumerARN)
	if err := v.err(); err != nil {
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
		ConsumerCreationTimestamp: epochTime{c.CreatedAt},
		StreamARN:                 c.StreamARN,
	}}, nil
}
