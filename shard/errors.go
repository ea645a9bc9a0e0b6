package shard

import (
	"errors"
	"fmt"
	"math"

	"github.com/shardlog/shardlog/segment"
)

// Errors returned by the store, streams and shards. The server maps them to
// Kinesis error types; they never carry wire-protocol meaning themselves.
var (
	// ErrStreamNotFound is returned when no stream of that name exists. A
	// DELETING stream exists until the store's DeleteDelay is over.
	ErrStreamNotFound = errors.New("shard: stream not found")
	// ErrStreamExists is returned by CreateStream for a name already in use.
	ErrStreamExists = errors.New("shard: stream already exists")
	// ErrShardNotFound is returned when a stream has no shard with that id.
	ErrShardNotFound = errors.New("shard: shard not found")
	// ErrShardClosed is returned when appending to or resharding a shard that
	// has been closed by a split, merge or scaling.
	ErrShardClosed = errors.New("shard: shard is closed")
	// ErrNotActive is returned when an operation needs an ACTIVE stream and the
	// stream is CREATING, UPDATING or DELETING.
	ErrNotActive = errors.New("shard: stream is not active")
	// ErrBadHashKey is returned for a hash key that is not a decimal number in
	// [0, 2^128-1].
	ErrBadHashKey = errors.New("shard: invalid hash key")
	// ErrBadSequenceNumber is returned for a string that is not a sequence
	// number shardlog could have issued.
	ErrBadSequenceNumber = errors.New("shard: invalid sequence number")
	// ErrForeignSequenceNumber is returned when a valid sequence number belongs
	// to another shard.
	ErrForeignSequenceNumber = errors.New("shard: sequence number belongs to another shard")
	// ErrNotAdjacent is returned by MergeShards for shards whose hash ranges do
	// not touch.
	ErrNotAdjacent = errors.New("shard: shards are not adjacent")
	// ErrBadSplitKey is returned by SplitShard when the new starting hash key is
	// not strictly inside the parent's range.
	ErrBadSplitKey = errors.New("shard: split key outside the shard's hash range")
	// ErrBadShardCount is returned by UpdateShardCount for a target outside
	// [half, double] of the open shard count, or when it equals it.
	ErrBadShardCount = errors.New("shard: invalid target shard count")
	// ErrBadRetention is returned for a retention outside what the operation
	// allows (an increase that decreases, below the floor, above 8760 h).
	ErrBadRetention = errors.New("shard: invalid retention period")
	// ErrTooLarge is returned for a record larger than the stream's maximum
	// record size.
	ErrTooLarge = errors.New("shard: record larger than the stream's maximum record size")
	// ErrBusy is returned for the records of an append that found more than
	// Options.MaxQueuedBytes of other appends to the same shard waiting or
	// running: they were not stored, and the caller may retry them later.
	// Refusing at once bounds how long an append waits under overload,
	// where queueing would only make every request slower.
	ErrBusy = errors.New("shard: too many appends waiting for the shard")
	// ErrTooManyTags is returned by AddTags when the stream would carry more
	// than MaxTags tags.
	ErrTooManyTags = errors.New("shard: too many tags")
	// ErrStoreClosed is returned by every operation after Store.Close.
	ErrStoreClosed = errors.New("shard: store is closed")
	// ErrFormat is returned by Open for a data directory written by an
	// incompatible format version.
	ErrFormat = errors.New("shard: unsupported data directory format")
	// ErrSticky is wrapped around the first write or sync failure of a shard:
	// the shard refuses appends until the store is reopened.
	ErrSticky = errors.New("shard: shard failed a write and refuses appends until reopened")
	// ErrConsumerNotFound is returned when a stream has no registered
	// consumer of that name (or it is being deregistered).
	ErrConsumerNotFound = errors.New("shard: consumer not found")
	// ErrConsumerExists is returned by RegisterConsumer for a name already
	// registered on the stream.
	ErrConsumerExists = errors.New("shard: consumer already exists")
	// ErrTooManyConsumers is returned by RegisterConsumer past MaxConsumers
	// consumers, or MaxCreatingConsumers of them CREATING.
	ErrTooManyConsumers = errors.New("shard: too many consumers")
)

// CorruptError is returned, wrapped, by Shard.Read when the next record to
// read is damaged on disk (bit rot, a page lost in the middle of a segment):
// the records at positions First through Last cannot be read, and no read
// returns their bytes or passes over them silently. A reader moves past them
// by reading from Last+1, which is what an AFTER_SEQUENCE_NUMBER iterator at
// Last's sequence number does. Err is the segment's *segment.CorruptError,
// which names the file and offset (for logs, not for clients).
type CorruptError struct {
	Shard       string // shard id
	First, Last uint64 // positions of the unreadable records, First <= Last
	Err         error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("shard %s: records at positions %d through %d are corrupt: %v", e.Shard, e.First, e.Last, e.Err)
}

// Unwrap returns the segment's error.
func (e *CorruptError) Unwrap() error { return e.Err }

// corruptError names the positions of the damage a read of segs[i] from
// next met. Damage running to the end of a sealed segment ends before the
// next segment's base (or the shard's end); damage the segment cannot place
// (a compressed block) is the one position next.
func (sh *Shard) corruptError(segs []*segment.Segment, i int, next uint64, ce *segment.CorruptError, err error) *CorruptError {
	e := &CorruptError{Shard: sh.id, First: next, Last: next, Err: err}
	if ce.SeqKnown {
		e.First, e.Last = ce.Seq, ce.LastSeq
	}
	if e.Last == math.MaxUint64 {
		if i+1 < len(segs) {
			e.Last = segs[i+1].Base() - 1
		} else {
			e.Last = sh.readEnd() - 1
		}
	}
	e.Last = max(e.Last, e.First)
	return e
}
