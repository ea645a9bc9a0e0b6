package ops

import (
	"errors"
	"strconv"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

type registerStreamConsumerInput struct {
	StreamARN    *string
	ConsumerName *string
	Tags         map[string]string
}

type registerStreamConsumerOutput struct {
	Consumer consumer
}

// registerStreamConsumer answers RegisterStreamConsumer: a new enhanced
// fan-out consumer, CREATING for the store's CreateDelay (0 by default),
// then ACTIVE. The stream must be ACTIVE.
func (s *Service) registerStreamConsumer(in *registerStreamConsumerInput) (*registerStreamConsumerOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("consumerName", in.ConsumerName != nil)
	v.ConsumerName("consumerName", in.ConsumerName)
	if in.Tags != nil {
		validateTags(&v, in.Tags)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	c, err := st.RegisterConsumer(*in.ConsumerName)
	switch {
	case errors.Is(err, shard.ErrConsumerExists):
		return nil, wire.Errorf(wire.ResourceInUse, "Consumer %s under stream %s already exists for account %s.", *in.ConsumerName, st.Name(), s.store.Options().AccountID)
	case errors.Is(err, shard.ErrTooManyConsumers):
		return nil, wire.Errorf(wire.LimitExceeded, "Stream %s under account %s has reached the limit of %s registered consumers, %s of them in CREATING state.",
			st.Name(), s.store.Options().AccountID, strconv.Itoa(shard.MaxConsumers), strconv.Itoa(shard.MaxCreatingConsumers))
	case err != nil:
		return nil, s.accountLimitError(err, st.Name())
	}
	if len(in.Tags) > 0 {
		if err := st.AddConsumerTags(c.Name, in.Tags); err != nil {
			return nil, err
		}
	}
	return &registerStreamConsumerOutput{Consumer: toConsumer(c)}, nil
}
