package ops

import (
	"errors"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

const (
	// maxPartitionKeyChars is the longest partition key, in characters.
	maxPartitionKeyChars = 256
	// maxDataBytes is the largest data blob the service model admits (10 MiB,
	// the highest MaxRecordSizeInKiB); a stream's own limit is checked after
	// validation.
	maxDataBytes = 10 << 20
)

type putRecordInput struct {
	SequenceNumberForOrdering *string
	PartitionKey              *string
	ExplicitHashKey           *string
	Data                      []byte
	StreamName                *string
	StreamARN                 *string
}

type putRecordOutput struct {
	ShardId        string
	SequenceNumber string
	EncryptionType string
}

// AppendJSON encodes the output as encoding/json would, without reflection:
// PutRecord is the per-request hot path of unbatched producers.
func (o *putRecordOutput) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"ShardId":`...)
	dst = wire.AppendJSONString(dst, o.ShardId)
	dst = append(dst, `,"SequenceNumber":`...)
	dst = wire.AppendJSONString(dst, o.SequenceNumber)
	dst = append(dst, `,"EncryptionType":`...)
	dst = wire.AppendJSONString(dst, o.EncryptionType)
	return append(dst, '}')
}

// putRecord answers PutRecord: one record routed by its partition key or
// explicit hash key.
func (s *Service) putRecord(in *putRecordInput) (*putRecordOutput, error) {
	began := time.Now()
	var v wire.Validator
	v.Str("sequenceNumberForOrdering", in.SequenceNumberForOrdering, 0, -1, wire.SequenceNumberPattern)
	v.NotNull("partitionKey", in.PartitionKey != nil)
	v.Str("partitionKey", in.PartitionKey, 1, maxPartitionKeyChars, nil)
	v.Str("explicitHashKey", in.ExplicitHashKey, 0, -1, wire.HashKeyPattern)
	v.NotNull("data", in.Data != nil)
	v.Blob("data", in.Data, maxDataBytes)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needWrite)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	if err := checkRecordSize("data", in.Data, *in.PartitionKey, info.MaxRecordSizeKiB); err != nil {
		return nil, err
	}
	if in.SequenceNumberForOrdering != nil {
		if _, _, err := shard.ParseSequenceNumber(*in.SequenceNumberForOrdering); err != nil {
			return nil, wire.Errorf(wire.InvalidArgument, "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.",
				*in.SequenceNumberForOrdering, st.Name(), s.store.Options().AccountID)
		}
	}
	var keys [1]shard.HashKey
	var recs [1]shard.Record
	var results [1]shard.PutResult
	recs[0] = shard.Record{PartitionKey: wire.S2B(*in.PartitionKey), Data: in.Data}
	if keys[0], err = routingKey(in.PartitionKey, in.ExplicitHashKey); err != nil {
		return nil, err
	}
	if in.ExplicitHashKey != nil {
		recs[0].ExplicitHashKey = wire.S2B(*in.ExplicitHashKey)
	}
	if s.limits.Load().Throughput && !s.throttleWrites(st, recs[:], keys[:], results[:]) {
		s.metrics.ObservePutRecord(st, &recs[0], &results[0], true, began)
		return nil, s.throughputExceeded(st, results[0].Shard)
	}
	st.Put(recs[:], keys[:], results[:])
	busy := errors.Is(results[0].Err, shard.ErrBusy)
	s.metrics.ObservePutRecord(st, &recs[0], &results[0], busy, began)
	if busy {
		return nil, s.throughputExceeded(st, results[0].Shard)
	}
	if err := results[0].Err; err != nil {
		return nil, err
	}
	return &putRecordOutput{
		ShardId:        results[0].Shard.ID(),
		SequenceNumber: results[0].Shard.SequenceNumber(results[0].Seq),
		EncryptionType: info.EncryptionType,
	}, nil
}

// routingKey is the hash key a record is routed by: its explicit hash key
// (already validated against hashKeyPattern) or the MD5 of its partition key.
func routingKey(partitionKey, explicitHashKey *string) (shard.HashKey, error) {
	if explicitHashKey == nil {
		return shard.HashPartitionKey(wire.S2B(*partitionKey)), nil
	}
	k, err := shard.ParseHashKey(*explicitHashKey)
	if err != nil {
		return shard.HashKey{}, wire.Errorf(wire.InvalidArgument,
			"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *explicitHashKey)
	}
	return k, nil
}

// checkRecordSize enforces the stream's maximum record size, which counts
// the data blob plus the partition key (in bytes).
func checkRecordSize(field string, data []byte, partitionKey string, maxKiB int) error {
	limit := maxKiB << 10
	if len(data) > limit {
		var v wire.Validator
		v.Blob(field, data, limit)
		return v.Err()
	}
	if len(data)+len(partitionKey) > limit {
		return wire.Errorf(wire.InvalidArgument, "Record size of %d bytes (data plus partition key) exceeds the stream's maximum record size of %d bytes.",
			len(data)+len(partitionKey), limit)
	}
	return nil
}
