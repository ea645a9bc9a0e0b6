package ops

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

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

const (
	// listConsumersDefault is ListStreamConsumers' default MaxResults.
	listConsumersDefault = 100
	// listConsumersMax is the largest MaxResults.
	listConsumersMax = 10000
	// listConsumersTokenTTL is how long a NextToken stays valid (300 s, as
	// for ListShards).
	listConsumersTokenTTL = 300 * time.Second
	// consumersTokenVersion is the version of consumersToken.
	consumersTokenVersion = 1
)

type listStreamConsumersInput struct {
	StreamARN               *string
	NextToken               *string
	MaxResults              *int
	StreamCreationTimestamp *wire.EpochTime

	token wire.Opened[consumersToken] // NextToken, opened once per request
}

// nextToken opens NextToken (once per request). A token that does not open
// is InvalidArgumentException.
func (in *listStreamConsumersInput) nextToken(s *Service) (consumersToken, error) {
	return in.token.Get(func() (consumersToken, error) {
		var tok consumersToken
		if s.tokens.Consumers.OpenJSON(*in.NextToken, &tok) != nil || tok.Version != consumersTokenVersion || tok.Stream == "" {
			return consumersToken{}, invalidConsumersToken(*in.NextToken)
		}
		return tok, nil
	})
}

// sealedStream implements sealedRequest: the stream NextToken names, which
// the request must also name in StreamARN.
func (in *listStreamConsumersInput) sealedStream(s *Service) (string, bool, error) {
	if in.NextToken == nil {
		return "", false, nil
	}
	tok, err := in.nextToken(s)
	return tok.Stream, true, err
}

func invalidConsumersToken(token string) error {
	return wire.Errorf(wire.InvalidArgument, "Invalid NextToken: %s", wire.ClipToken(token))
}

type listStreamConsumersOutput struct {
	Consumers []consumer
	NextToken string `json:",omitempty"`
}

// consumersToken is the content of a ListStreamConsumers NextToken (its
// JSON, sealed by wire.Tokens.Consumers): the stream and its creation
// time, the last consumer returned (by creation time and name, the listing
// order) and when the token was issued.
type consumersToken struct {
	Version   int    `json:"v"`
	Stream    string `json:"s"`
	CreatedMs int64  `json:"c"`
	AfterMs   int64  `json:"am"`
	AfterName string `json:"an"`
	IssuedMs  int64  `json:"t"`
}

// listStreamConsumers answers ListStreamConsumers: the stream's consumers in
// registration order, MaxResults at a time. The StreamARN must accompany a
// NextToken, as AWS requires.
func (s *Service) listStreamConsumers(in *listStreamConsumersInput) (*listStreamConsumersOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil)
	v.IntRange("maxResults", in.MaxResults, 1, listConsumersMax)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	if ts := in.StreamCreationTimestamp; ts != nil && ts.Unix() != info.CreatedAt.Unix() {
		return nil, s.streamNotFound(st.Name())
	}
	var after *consumersToken
	if in.NextToken != nil {
		tok, err := in.nextToken(s)
		if err != nil {
			return nil, err
		}
		if tok.Stream != st.Name() || tok.CreatedMs != info.CreatedAt.UnixMilli() {
			return nil, invalidConsumersToken(*in.NextToken)
		}
		if age := s.opts.Now().UnixMilli() - tok.IssuedMs; age > listConsumersTokenTTL.Milliseconds() {
			return nil, wire.Errorf(wire.ExpiredNextToken, "The NextToken has expired: it was issued %d ms ago, and NextTokens are valid for %d ms.", age, listConsumersTokenTTL.Milliseconds())
		}
		after = &tok
	}
	limit := listConsumersDefault
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	out := &listStreamConsumersOutput{Consumers: []consumer{}}
	var last shard.ConsumerInfo
	all := st.Consumers()
	slices.SortStableFunc(all, func(a, b shard.ConsumerInfo) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Name, b.Name))
	})
	for _, c := range all {
		ms := c.CreatedAt.UnixMilli()
		if after != nil && (ms < after.AfterMs || ms == after.AfterMs && c.Name <= after.AfterName) {
			continue
		}
		if len(out.Consumers) == limit {
			tok, err := s.tokens.Consumers.SealJSON(consumersToken{
				Version:   consumersTokenVersion,
				Stream:    st.Name(),
				CreatedMs: info.CreatedAt.UnixMilli(),
				AfterMs:   last.CreatedAt.UnixMilli(),
				AfterName: last.Name,
				IssuedMs:  s.opts.Now().UnixMilli(),
			})
			if err != nil {
				return nil, err
			}
			out.NextToken = tok
			break
		}
		out.Consumers = append(out.Consumers, toConsumer(c))
		last = c
	}
	return out, nil
}
