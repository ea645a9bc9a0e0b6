package ops

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

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
// JSON, sealed: seal.go, purposeConsumerToken): the stream and its creation
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
