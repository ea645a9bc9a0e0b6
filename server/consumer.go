package server

import (
	"errors"
	"regexp"
	"strings"

	"github.com/shardlog/shardlog/shard"
)

// Patterns of the consumer members of the service model.
var (
	consumerNamePattern = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	consumerARNMember   = regexp.MustCompile(`^(?:^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+)$`)
)

// consumerName checks a ConsumerName member.
func (v *validator) consumerName(field string, name *string) {
	v.str(field, name, 1, 128, consumerNamePattern)
}

// consumerARN checks a ConsumerARN member.
func (v *validator) consumerARN(field string, arn *string) {
	v.str(field, arn, 1, 2048, consumerARNMember)
}

// consumer is the Kinesis Consumer structure (RegisterStreamConsumer,
// ListStreamConsumers).
type consumer struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            shard.ConsumerStatus
	ConsumerCreationTimestamp epochTime
}

// consumerDescription is the Kinesis ConsumerDescription structure.
type consumerDescription struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            shard.ConsumerStatus
	ConsumerCreationTimestamp epochTime
	StreamARN                 string
}

func toConsumer(c shard.ConsumerInfo) consumer {
	return consumer{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: epochTime{c.CreatedAt},
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
func (s *Server) consumerFor(arn, name, streamARN *string) (*shard.Stream, shard.ConsumerInfo, error) {
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
	return nil, shard.ConsumerInfo{}, apiErrorf(errInvalidArgument, "ConsumerARN or both ConsumerName and StreamARN are required for this request.")
}

// consumerStream resolves the stream of a consumer; a missing stream is a
// missing consumer, named by what the request named.
func (s *Server) consumerStream(streamARN, what string) (*shard.Stream, error) {
	st, err := s.lookupStream(nil, &streamARN, needAny)
	var ae *APIError
	if errors.As(err, &ae) && ae.Type == errResourceNotFound {
		return nil, s.consumerNotFound(what)
	}
	return st, err
}

// consumerNotFound is the ResourceNotFoundException for a consumer named by
// ARN or name.
func (s *Server) consumerNotFound(what string) *APIError {
	return apiErrorf(errResourceNotFound, "Consumer %s under account %s not found.", what, s.store.Options().AccountID)
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
func (s *Server) resourceTagged(arn string, need streamNeed) (tagged, error) {
	if !consumerARNPattern.MatchString(arn) {
		return s.resourceStream(arn, need)
	}
	st, c, err := s.consumerFor(&arn, nil, nil)
	if err != nil {
		return nil, err
	}
	return consumerTags{st: st, name: c.Name}, nil
}
