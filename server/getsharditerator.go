package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shardlog/shardlog/shard"
)

// Shard iterator types.
const (
	iterAtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	iterAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	iterTrimHorizon         = "TRIM_HORIZON"
	iterLatest              = "LATEST"
	iterAtTimestamp         = "AT_TIMESTAMP"
)

type getShardIteratorInput struct {
	ShardId                *string
	ShardIteratorType      *string
	StartingSequenceNumber *string
	StreamName             *string
	StreamARN              *string
	Timestamp              *epochTime
}

type getShardIteratorOutput struct {
	ShardIterator string
}

// getShardIterator answers GetShardIterator: a signed token for a position
// in one shard.
func (s *Server) getShardIterator(in *getShardIteratorInput) (*getShardIteratorOutput, error) {
	var v validator
	v.notNull("shardId", in.ShardId != nil)
	v.str("shardId", in.ShardId, 1, 128, shardIDPattern)
	v.notNull("shardIteratorType", in.ShardIteratorType != nil)
	v.enum("shardIteratorType", in.ShardIteratorType,
		iterAfterSequenceNumber, iterLatest, iterAtTimestamp, iterAtSequenceNumber, iterTrimHorizon)
	v.str("startingSequenceNumber", in.StartingSequenceNumber, 0, -1, sequenceNumberPattern)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	shardID := normalizeShardID(*in.ShardId)
	sh, err := st.Shard(shardID)
	if errors.Is(err, shard.ErrShardNotFound) {
		return nil, s.shardNotFound(st.Name(), shardID)
	} else if err != nil {
		return nil, err
	}
	typ := *in.ShardIteratorType
	pos, err := s.iteratorPosition(st, sh, typ, in.StartingSequenceNumber, in.Timestamp)
	if err != nil {
		return nil, err
	}
	tok := s.appendIterator(nil, iterator{
		stream:       st.Name(),
		shardID:      sh.ID(),
		shardEpochMs: sh.SeqID().EpochMs,
		pos:          pos,
		issuedMs:     s.opts.Now().UnixMilli(),
	})
	return &getShardIteratorOutput{ShardIterator: string(tok)}, nil
}

// iteratorPosition is the shard position an iterator of type typ starts at.
func (s *Server) iteratorPosition(st *shard.Stream, sh *shard.Shard, typ string, seqNum *string, ts *epochTime) (uint64, error) {
	account := s.store.Options().AccountID
	mustEither := func(what string) error {
		return apiErrorf(errInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "+
			"(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and %s StartingSequenceNumber.", typ, what)
	}
	switch typ {
	case iterTrimHorizon, iterLatest:
		if seqNum != nil {
			return 0, mustEither("also a")
		}
		if typ == iterLatest {
			if end, closed := sh.End(); closed {
				return end, nil
			}
			return sh.Tail(), nil
		}
		return sh.TrimHorizon()
	case iterAtTimestamp:
		if ts == nil {
			return 0, apiErrorf(errInvalidArgument, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		now := s.opts.Now().UnixMilli()
		if ms := ts.UnixMilli(); ms > now {
			return 0, apiErrorf(errInvalidArgument, "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ms, now)
		}
		return sh.SeekTime(ts.Time)
	}
	// AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER (validation admits nothing else).
	if seqNum == nil {
		return 0, mustEither("no")
	}
	position := sh.Position
	if typ == iterAfterSequenceNumber {
		position = sh.PositionAfter
	}
	pos, err := position(*seqNum)
	switch {
	case errors.Is(err, shard.ErrForeignSequenceNumber):
		id, _, _ := shard.ParseSequenceNumber(*seqNum)
		if id.Index != sh.Index() {
			return 0, apiErrorf(errInvalidArgument, "Invalid StartingSequenceNumber. It encodes shardId-%012d, while it was used in a call to a shard with %s", id.Index, sh.ID())
		}
		return 0, apiErrorf(errInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
			*seqNum, sh.ID(), st.Name(), account)
	case err != nil:
		return 0, apiErrorf(errInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.",
			*seqNum, sh.ID(), st.Name(), account)
	}
	return pos, nil
}

// normalizeShardID accepts the short forms AWS accepts for a shard id
// ("3", "shardId-3") and returns the canonical "shardId-000000000003";
// anything else is returned unchanged.
func normalizeShardID(id string) string {
	digits := strings.TrimPrefix(id, "shardId-")
	n, err := strconv.ParseUint(digits, 10, 31)
	if err != nil || digits == "" || digits[0] == '+' {
		return id
	}
	return fmt.Sprintf("shardId-%012d", n)
}
