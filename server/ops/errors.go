package ops

import (
	"errors"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// ToAPIError maps any error a handler returned to what the client sees:
// APIErrors pass through, shard sentinels get their Kinesis type with a
// generic message (handlers that know the stream or shard write AWS's exact
// message themselves), and anything else is an InternalFailure, logged here
// with its full chain so no path or Go error reaches the client.
func (s *Service) ToAPIError(op string, err error) *wire.APIError {
	var ae *wire.APIError
	if errors.As(err, &ae) {
		return ae
	}
	for _, m := range sentinelErrors {
		if errors.Is(err, m.err) {
			return &wire.APIError{Type: m.typ, Message: m.msg}
		}
	}
	s.log.Error().Err(err).Str("op", op).Msg("internal failure")
	return wire.InternalFailure
}

// sentinelErrors maps shard sentinels to Kinesis errors, first match wins.
// ErrSticky and ErrFormat are deliberately absent: they are InternalFailures.
var sentinelErrors = []struct {
	err error
	typ string
	msg string
}{
	{shard.ErrStoreClosed, wire.ServiceUnavailable, "Service is shutting down."},
	{shard.ErrStreamNotFound, wire.ResourceNotFound, "Requested resource not found."},
	{shard.ErrShardNotFound, wire.ResourceNotFound, "Requested resource not found."},
	{shard.ErrStreamExists, wire.ResourceInUse, "Stream already exists."},
	{shard.ErrNotActive, wire.ResourceInUse, "Stream is not currently ACTIVE or UPDATING."},
	{shard.ErrShardClosed, wire.ResourceInUse, "Shard is closed."},
	{shard.ErrBadHashKey, wire.InvalidArgument, "Invalid hash key."},
	{shard.ErrBadSequenceNumber, wire.InvalidArgument, "Invalid sequence number."},
	{shard.ErrForeignSequenceNumber, wire.InvalidArgument, "Sequence number does not belong to this shard."},
	{shard.ErrNotAdjacent, wire.InvalidArgument, "Shards are not adjacent."},
	{shard.ErrBadSplitKey, wire.InvalidArgument, "NewStartingHashKey is not within the hash key range of the shard."},
	{shard.ErrBadShardCount, wire.InvalidArgument, "Invalid target shard count."},
	{shard.ErrBadRetention, wire.InvalidArgument, "Invalid retention period."},
	{shard.ErrTooLarge, wire.Validation, "Record is larger than the stream's maximum record size."},
	{shard.ErrLimitExceeded, wire.LimitExceeded, "Account limit exceeded."},
	{shard.ErrTooManyTags, wire.InvalidArgument, "Failed to add tags. The stream would have more than 50 tags."},
}

// corruptRecords is the InternalFailure a read that reached records damaged
// on disk answers with, and records it in /metrics. The message names the
// stream, the shard and the sequence numbers (never a file or offset, which
// go to the log with the full chain) and how to read on past them: an
// AFTER_SEQUENCE_NUMBER iterator at the last one. It returns nil when err
// is not such a read.
func (s *Service) corruptRecords(op string, st *shard.Stream, sh *shard.Shard, err error) *wire.APIError {
	var ce *shard.CorruptError
	if !errors.As(err, &ce) {
		return nil
	}
	s.metrics.Stream(st).CorruptReads.Inc()
	first, last := sh.SequenceNumber(ce.First), sh.SequenceNumber(ce.Last)
	s.log.Error().Err(err).Str("op", op).Str("stream", st.Name()).Str("shard", sh.ID()).Str("seq", first).
		Msg("internal failure: corrupt records")
	what := "Record with sequence number " + first + " is"
	if ce.Last != ce.First {
		what = "Records with sequence numbers " + first + " through " + last + " are"
	}
	return wire.Errorf(wire.InternalFailureType, "%s corrupt on disk in shard %s of stream %s and cannot be read. "+
		"Read on with an AFTER_SEQUENCE_NUMBER iterator at sequence number %s.", what, sh.ID(), st.Name(), last)
}

// errDryRun is the answer to a request that would have succeeded but asked
// for a dry run. AWS answers it with status 400.
var errDryRun = &wire.APIError{Type: wire.DryRunOperation, Message: "Request would have succeeded, but the DryRun flag is set."}

// dryRun answers the DryRun member that the data-plane operations
// (PutRecord, PutRecords, GetRecords, GetShardIterator, SubscribeToShard)
// carry. AWS runs every check of the real operation (validation, the
// resource lookup, argument checks) and then, instead of acting, answers
// DryRunOperationException; a request that fails a check gets that check's
// error as usual. So call it last, after every check and right before the
// first side effect:
//
//	if err := dryRun(in.DryRun); err != nil {
//		return nil, err
//	}
//
// It returns nil when flag is absent or false.
func dryRun(flag *bool) error {
	if flag != nil && *flag {
		return errDryRun
	}
	return nil
}
