package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shardlog/shardlog/server/wire"

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
	Timestamp              *wire.EpochTime
}

type getShardIteratorOutput struct {
	ShardIterator string
}

// getShardIterator answers GetShardIterator: a signed token for a position
// in one shard.
func (s *Service) getShardIterator(in *getShardIteratorInput) (*getShardIteratorOutput, error) {
	var v wire.Validator
	v.NotNull("shardId", in.ShardId != nil)
	v.Str("shardId", in.ShardId, 1, 128, wire.ShardIDPattern)
	v.NotNull("shardIteratorType", in.ShardIteratorType != nil)
	v.Enum("shardIteratorType", in.ShardIteratorType,
		iterAfterSequenceNumber, iterLatest, iterAtTimestamp, iterAtSequenceNumber, iterTrimHorizon)
	v.Str("startingSequenceNumber", in.StartingSequenceNumber, 0, -1, wire.SequenceNumberPattern)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
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
	tok := s.tokens.AppendIterator(nil, wire.Iterator{
		Stream:       st.Name(),
		ShardID:      sh.ID(),
		ShardEpochMs: sh.SeqID().EpochMs,
		Pos:          pos,
		IssuedMs:     s.opts.Now().UnixMilli(),
	})
	return &getShardIteratorOutput{ShardIterator: string(tok)}, nil
}

// iteratorPosition is the shard position an iterator of type typ starts at.
func (s *Service) iteratorPosition(st *shard.Stream, sh *shard.Shard, typ string, seqNum *string, ts *wire.EpochTime) (uint64, error) {
	account := s.store.Options().AccountID
	mustEither := func(what string) error {
		return wire.Errorf(wire.InvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "+
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
			return 0, wire.Errorf(wire.InvalidArgument, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		now := s.opts.Now().UnixMilli()
		if ms := ts.UnixMilli(); ms > now {
			return 0, wire.Errorf(wire.InvalidArgument, "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ms, now)
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
			return 0, wire.Errorf(wire.InvalidArgument, "Invalid StartingSequenceNumber. It encodes shardId-%012d, while it was used in a call to a shard with %s", id.Index, sh.ID())
		}
		return 0, wire.Errorf(wire.InvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
			*seqNum, sh.ID(), st.Name(), account)
	case err != nil:
		return 0, wire.Errorf(wire.InvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.",
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
