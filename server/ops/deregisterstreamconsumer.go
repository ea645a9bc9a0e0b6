package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

type deregisterStreamConsumerInput struct {
	StreamARN    *string
	ConsumerName *string
	ConsumerARN  *string
}

// deregisterStreamConsumer answers DeregisterStreamConsumer: the consumer is
// DELETING for the store's DeleteDelay, then gone, and its subscriptions end
// at once.
func (s *Service) deregisterStreamConsumer(in *deregisterStreamConsumerInput) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamARN("streamARN", in.StreamARN)
	v.ConsumerName("consumerName", in.ConsumerName)
	v.ConsumerARN("consumerARN", in.ConsumerARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, c, err := s.consumerFor(in.ConsumerARN, in.ConsumerName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if c.Status != shard.ConsumerActive {
		return nil, wire.Errorf(wire.ResourceInUse, "Consumer %s under account %s is not in an ACTIVE state, instead in state %s.", c.ARN, s.store.Options().AccountID, c.Status)
	}
	if _, err := st.DeregisterConsumer(c.Name); errors.Is(err, shard.ErrConsumerNotFound) {
		return nil, s.consumerNotFound(c.ARN)
	} else if err != nil {
		return nil, err
	}
	s.subs.endConsumer(c.ARN, s.consumerNotFound(c.ARN))
	return &emptyOutput{}, nil
}
