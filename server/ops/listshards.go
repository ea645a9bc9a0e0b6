package ops

import (
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// listShardsMaxResults is the most shards ListShards returns per call, and
// its default MaxResults.
const listShardsMaxResults = 1000

// listShardsTokenTTL is how long a ListShards NextToken stays valid (300 s,
// as AWS documents).
const listShardsTokenTTL = 300 * time.Second

// Shard filter types.
const (
	filterAfterShardID    = "AFTER_SHARD_ID"
	filterAtTrimHorizon   = "AT_TRIM_HORIZON"
	filterFromTrimHorizon = "FROM_TRIM_HORIZON"
	filterAtLatest        = "AT_LATEST"
	filterAtTimestamp     = "AT_TIMESTAMP"
	filterFromTimestamp   = "FROM_TIMESTAMP"
)

// listShardsTokenVersion is the version of shardsToken in NextTokens.
const listShardsTokenVersion = 1

type listShardsInput struct {
	StreamName              *string
	StreamARN               *string
	NextToken               *string
	ExclusiveStartShardId   *string
	MaxResults              *int
	StreamCreationTimestamp *wire.EpochTime
	ShardFilter             *shardFilterInput

	token wire.Opened[shardsToken] // NextToken, opened once per request
}

// nextToken opens NextToken (once per request). A token that does not open
// is InvalidArgumentException.
func (in *listShardsInput) nextToken(s *Service) (shardsToken, error) {
	return in.token.Get(func() (shardsToken, error) {
		var tok shardsToken
		if s.tokens.Shards.OpenJSON(*in.NextToken, &tok) != nil || tok.Version != listShardsTokenVersion || tok.Stream == "" {
			return shardsToken{}, wire.Errorf(wire.InvalidArgument, "Invalid NextToken: %s", wire.ClipToken(*in.NextToken))
		}
		return tok, nil
	})
}

// sealedStream implements sealedRequest: the stream NextToken names.
func (in *listShardsInput) sealedStream(s *Service) (string, bool, error) {
	if in.NextToken == nil {
		return "", false, nil
	}
	tok, err := in.nextToken(s)
	return tok.Stream, true, err
}

// shardFilterInput is the Kinesis ShardFilter structure.
type shardFilterInput struct {
	Type      *string
	ShardId   *string
	Timestamp *wire.EpochTime
}

type listShardsOutput struct {
	Shards    []shardDescription
	NextToken string `json:",omitempty"`
}

// shardsToken is the content of a ListShards NextToken: the stream (by name
// and creation time, so a recreated stream is not mistaken for it), the
// last shard returned and when the token was issued. On the wire it is its
// JSON, sealed by wire.Tokens.Shards.
type shardsToken struct {
	Version   int    `json:"v"`
	Stream    string `json:"s"`
	CreatedMs int64  `json:"c"`
	After     string `json:"a"`
	IssuedMs  int64  `json:"t"`
}

// listShards answers ListShards: the stream's shards in id order, narrowed
// by ExclusiveStartShardId (or the position in NextToken) and ShardFilter,
// at most MaxResults of them, with a NextToken when more remain.
func (s *Service) listShards(in *listShardsInput) (*listShardsOutput, error) {
	var v wire.Validator
	v.IntRange("maxResults", in.MaxResults, 1, 10000)
	v.Str("exclusiveStartShardId", in.ExclusiveStartShardId, 1, 128, wire.ShardIDPattern)
	v.StreamName("streamName", in.StreamName)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil)
	v.StreamARN("streamARN", in.StreamARN)
	if f := in.ShardFilter; f != nil {
		v.NotNull("shardFilter.type", f.Type != nil)
		v.Enum("shardFilter.type", f.Type, filterAfterShardID, filterAtTrimHorizon, filterFromTrimHorizon, filterAtLatest, filterAtTimestamp, filterFromTimestamp)
		v.Str("shardFilter.shardId", f.ShardId, 1, 128, wire.ShardIDPattern)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, after, err := s.listShardsStart(in)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	if info.Status == shard.StatusCreating {
		return nil, s.notActive(info.Name, info.Status)
	}
	keep, err := s.shardFilter(in.ShardFilter, st, info)
	if err != nil {
		return nil, err
	}
	if f := in.ShardFilter; f != nil && *f.Type == filterAfterShardID {
		after = max(after, normalizeShardID(*f.ShardId))
	}
	limit := listShardsMaxResults
	if in.MaxResults != nil && *in.MaxResults < limit {
		limit = *in.MaxResults
	}
	out := &listShardsOutput{Shards: []shardDescription{}}
	for _, sh := range st.Shards() {
		if sh.ID() <= after || !keep(sh) {
			continue
		}
		if len(out.Shards) == limit {
			tok, err := s.tokens.Shards.SealJSON(shardsToken{
				Version:   listShardsTokenVersion,
				Stream:    info.Name,
				CreatedMs: info.CreatedAt.UnixMilli(),
				After:     out.Shards[limit-1].ShardId,
				IssuedMs:  s.opts.Now().UnixMilli(),
			})
			if err != nil {
				return nil, err
			}
			out.NextToken = tok
			break
		}
		out.Shards = append(out.Shards, describeShard(sh))
	}
	return out, nil
}

// listShardsStart resolves the stream a ListShards request names and the
// shard id to list after: from NextToken, which excludes StreamName,
// StreamARN, ExclusiveStartShardId and StreamCreationTimestamp, or from
// those members.
func (s *Service) listShardsStart(in *listShardsInput) (*shard.Stream, string, error) {
	if in.NextToken == nil {
		if in.StreamName == nil && in.StreamARN == nil {
			return nil, "", wire.Errorf(wire.InvalidArgument, "Either NextToken or StreamName should be provided.")
		}
		st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
		if err != nil {
			return nil, "", err
		}
		if ts := in.StreamCreationTimestamp; ts != nil && ts.Unix() != st.Info().CreatedAt.Unix() {
			return nil, "", s.streamNotFound(st.Name())
		}
		after := ""
		if in.ExclusiveStartShardId != nil {
			after = normalizeShardID(*in.ExclusiveStartShardId)
		}
		return st, after, nil
	}
	switch {
	case in.StreamName != nil:
		return nil, "", wire.Errorf(wire.InvalidArgument, "NextToken and StreamName cannot be provided together.")
	case in.StreamARN != nil:
		return nil, "", wire.Errorf(wire.InvalidArgument, "NextToken and StreamARN cannot be provided together.")
	case in.ExclusiveStartShardId != nil:
		return nil, "", wire.Errorf(wire.InvalidArgument, "NextToken and ExclusiveStartShardId cannot be provided together.")
	case in.StreamCreationTimestamp != nil:
		return nil, "", wire.Errorf(wire.InvalidArgument, "NextToken and StreamCreationTimestamp cannot be provided together.")
	}
	tok, err := in.nextToken(s)
	if err != nil {
		return nil, "", err
	}
	if age := s.opts.Now().UnixMilli() - tok.IssuedMs; age > listShardsTokenTTL.Milliseconds() {
		return nil, "", wire.Errorf(wire.ExpiredNextToken, "The NextToken has expired: it was issued %d ms ago, and NextTokens are valid for %d ms.", age, listShardsTokenTTL.Milliseconds())
	}
	st, err := s.lookupStream(&tok.Stream, nil, needAny)
	if err != nil {
		return nil, "", err
	}
	if st.Info().CreatedAt.UnixMilli() != tok.CreatedMs {
		return nil, "", s.streamNotFound(tok.Stream)
	}
	return st, tok.After, nil
}

// shardFilter returns the predicate a ShardFilter selects shards with. A
// shard lives over [CreatedMs, ClosedMs], or from CreatedMs on while open.
//
//   - AFTER_SHARD_ID: every shard (the caller skips up to ShardId);
//   - AT_TRIM_HORIZON: shards alive at the trim horizon (now − retention, or
//     the stream's creation if later);
//   - FROM_TRIM_HORIZON: shards alive at or after the trim horizon;
//   - AT_LATEST: open shards;
//   - AT_TIMESTAMP: shards alive at Timestamp (taken as the creation of the
//     stream if earlier);
//   - FROM_TIMESTAMP: shards alive at or after Timestamp (taken as the trim
//     horizon if earlier).
//
// No filter keeps every retained shard.
func (s *Service) shardFilter(f *shardFilterInput, st *shard.Stream, info shard.StreamInfo) (func(*shard.Shard) bool, error) {
	all := func(*shard.Shard) bool { return true }
	if f == nil {
		return all, nil
	}
	createdMs := info.CreatedAt.UnixMilli()
	horizonMs := max(s.opts.Now().Add(-st.Retention()).UnixMilli(), createdMs)
	aliveAt := func(ms int64) func(*shard.Shard) bool {
		return func(sh *shard.Shard) bool {
			return sh.CreatedMs() <= ms && (!sh.Closed() || sh.ClosedMs() >= ms)
		}
	}
	aliveFrom := func(ms int64) func(*shard.Shard) bool {
		return func(sh *shard.Shard) bool { return !sh.Closed() || sh.ClosedMs() >= ms }
	}
	typ := *f.Type
	switch typ {
	case filterAfterShardID:
		if f.ShardId == nil {
			return nil, wire.Errorf(wire.InvalidArgument, "Must specify ShardId in ShardFilter when ShardFilter type is AFTER_SHARD_ID.")
		}
		return all, nil
	case filterAtTimestamp, filterFromTimestamp:
		if f.Timestamp == nil {
			return nil, wire.Errorf(wire.InvalidArgument, "Must specify Timestamp in ShardFilter when ShardFilter type is %s.", typ)
		}
	}
	if f.ShardId != nil {
		return nil, wire.Errorf(wire.InvalidArgument, "ShardId in ShardFilter can only be specified when ShardFilter type is AFTER_SHARD_ID.")
	}
	if f.Timestamp != nil && typ != filterAtTimestamp && typ != filterFromTimestamp {
		return nil, wire.Errorf(wire.InvalidArgument, "Timestamp in ShardFilter can only be specified when ShardFilter type is AT_TIMESTAMP or FROM_TIMESTAMP.")
	}
	switch typ {
	case filterAtTrimHorizon:
		return aliveAt(horizonMs), nil
	case filterFromTrimHorizon:
		return aliveFrom(horizonMs), nil
	case filterAtLatest:
		return func(sh *shard.Shard) bool { return !sh.Closed() }, nil
	case filterAtTimestamp:
		return aliveAt(max(f.Timestamp.UnixMilli(), createdMs)), nil
	}
	// FROM_TIMESTAMP (validation admits nothing else).
	return aliveFrom(max(f.Timestamp.UnixMilli(), horizonMs)), nil
}
