package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

type deleteStreamInput struct {
	StreamName *string
	StreamARN  *string
	// EnforceConsumerDeletion deletes a stream that has registered
	// consumers (and ends their subscriptions); without it such a stream is
	// refused with ResourceInUseException.
	EnforceConsumerDeletion *bool
}

// deleteStream answers DeleteStream. The stream is DELETING for the store's
// DeleteDelay, then gone; a stream in any state but DELETING, CREATING
// included, may be deleted (lookupStream's needChange).
func (s *Service) deleteStream(in *deleteStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	consumers := st.Consumers()
	if len(consumers) > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, wire.Errorf(wire.ResourceInUse, "Stream %s under account %s has registered consumers. Deregister them or use EnforceConsumerDeletion.", st.Name(), s.store.Options().AccountID)
	}
	for _, c := range consumers {
		s.subs.endConsumer(c.ARN, s.consumerNotFound(c.ARN))
	}
	switch err := s.store.DeleteStream(st.Name()); {
	case errors.Is(err, shard.ErrStreamNotFound):
		return nil, s.streamNotFound(st.Name())
	case errors.Is(err, shard.ErrNotActive):
		// Another DeleteStream got there since lookupStream.
		return nil, s.notActive(st.Name(), shard.StatusDeleting)
	case err != nil:
		return nil, err
	}
	return &emptyOutput{}, nil
}
