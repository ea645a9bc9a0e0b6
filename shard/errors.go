package shard

import "errors"

// Errors returned by the store, streams and shards. The server maps them to
// Kinesis error types; they never carry wire-protocol meaning themselves.
var (
	// ErrStreamNotFound is returned when no stream of that name exists (or it is
	// being deleted).
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
