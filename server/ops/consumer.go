package ops

import (
	"errors"
	"strings"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// consumer is the Kinesis Consumer structure (RegisterStreamConsumer,
// ListStreamConsumers).
type consumer struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            shard.ConsumerStatus
	ConsumerCreationTimestamp wire.EpochTime
}

// consumerDescription is the Kinesis ConsumerDescription structure.
type consumerDescription struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            shard.ConsumerStatus
	ConsumerCreationTimestamp wire.EpochTime
	StreamARN                 string
}

func toConsumer(c shard.ConsumerInfo) consumer {
	return consumer{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: wire.EpochTime{Time: c.CreatedAt},
	}
}

// splitConsumerARN splits "<stream ARN>/consumer/<name>:<epoch>" into the
// stream ARN and the consumer name.
func splitConsumerARN(arn string) (streamARN, name string, ok bool) {
	i := strings.LastIndex(arn, "/consumer/")
	if i < 0 {
		return "", "", false
	}
	rest := arn[i+len("/consumer/"):]
	j := strings.LastIndex(rest, ":")
	if j <= 0 {
		return "", "", false
	}
	return arn[:i], rest[:j], true
}

// consumerFor resolves the consumer a request names by ConsumerARN, or by
// ConsumerName and StreamARN (call it after validation). A consumer ARN must
// match the registered consumer exactly: an ARN of an earlier consumer of the
// same name (another creation time) names nothing.
func (s *Service) consumerFor(arn, name, streamARN *string) (*shard.Stream, shard.ConsumerInfo, error) {
	switch {
	case arn != nil:
		sARN, cName, ok := splitConsumerARN(*arn)
		if !ok {
			return nil, shard.ConsumerInfo{}, s.consumerNotFound(*arn)
		}
		st, err := s.consumerStream(sARN, *arn)
		if err != nil {
			return nil, shard.ConsumerInfo{}, err
		}
		c, err := st.Consumer(cName)
		if errors.Is(err, shard.ErrConsumerNotFound) || err == nil && c.ARN != *arn {
			return nil, shard.ConsumerInfo{}, s.consumerNotFound(*arn)
		}
		return st, c, err
	case name != nil && streamARN != nil:
		st, err := s.consumerStream(*streamARN, *name)
		if err != nil {
			return nil, shard.ConsumerInfo{}, err
		}
		c, err := st.Consumer(*name)
		if errors.Is(err, shard.ErrConsumerNotFound) {
			return nil, shard.ConsumerInfo{}, s.consumerNotFound(*name)
		}
		return st, c, err
	}
	return nil, shard.ConsumerInfo{}, wire.Errorf(wire.InvalidArgument, "ConsumerARN or both ConsumerName and StreamARN are required for this request.")
}

// consumerStream resolves the stream of a consumer; a missing stream is a
// missing consumer, named by what the request named.
func (s *Service) consumerStream(streamARN, what string) (*shard.Stream, error) {
	st, err := s.lookupStream(nil, &streamARN, needAny)
	var ae *wire.APIError
	if errors.As(err, &ae) && ae.Type == wire.ResourceNotFound {
		return nil, s.consumerNotFound(what)
	}
	return st, err
}

// consumerNotFound is the ResourceNotFoundException for a consumer named by
// ARN or name.
func (s *Service) consumerNotFound(what string) *wire.APIError {
	return wire.Errorf(wire.ResourceNotFound, "Consumer %s under account %s not found.", what, s.store.Options().AccountID)
}

// tagged is a resource that carries tags: a stream, or a registered
// consumer (consumerTags).
type tagged interface {
	Name() string
	Tags() map[string]string
	AddTags(map[string]string) error
	RemoveTags([]string) error
}

// consumerTags is the tagged view of one registered consumer.
type consumerTags struct {
	st   *shard.Stream
	name string
}

func (c consumerTags) Name() string { return c.name }

func (c consumerTags) Tags() map[string]string {
	tags, _ := c.st.ConsumerTags(c.name)
	return tags
}

func (c consumerTags) AddTags(tags map[string]string) error {
	return c.st.AddConsumerTags(c.name, tags)
}

func (c consumerTags) RemoveTags(keys []string) error { return c.st.RemoveConsumerTags(c.name, keys) }

// resourceTagged resolves the stream or consumer a ResourceARN names, for
// the tag operations. Call it after validation (validator.resourceARN).
func (s *Service) resourceTagged(arn string, need streamNeed) (tagged, error) {
	if !consumerARNPattern.MatchString(arn) {
		return s.resourceStream(arn, need)
	}
	st, c, err := s.consumerFor(&arn, nil, nil)
	if err != nil {
		return nil, err
	}
	return consumerTags{st: st, name: c.Name}, nil
}
