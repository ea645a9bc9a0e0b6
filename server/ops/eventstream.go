package ops

import (
	"slices"
	"strconv"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// subscribeToShardEvent is one SubscribeToShardEvent, encoded straight from
// the records of a shard read, as GetRecords' response is: its records alias
// mapped segment memory that must stay held until it is encoded. It is
// reused from event to event of one subscription.
type subscribeToShardEvent struct {
	records []shard.Record
	seqID   shard.SeqID // of the shard the records are from
	kms     bool        // the stream is encrypted: records say so
	// continuation is ContinuationSequenceNumber, nil in the last event of
	// a closed shard.
	continuation *string
	millisBehind int64
	// childShards is not nil in the last event of a closed shard.
	childShards []childShard
	// seqs formats the sequence numbers; the records of one subscription
	// come in consecutive positions.
	seqs shard.SeqFormatter
}

// AppendCBOR encodes the event without reflection or a copy of the
// records, as CBOREncMode encodes its wire shape (see getrecords_cbor.go).
// It sizes dst once for the whole event.
func (e *subscribeToShardEvent) AppendCBOR(dst []byte) []byte {
	dst = slices.Grow(dst, recordsSize(e.records, true))
	members := uint64(2) // Records, MillisBehindLatest
	if e.continuation != nil {
		members++
	}
	if len(e.childShards) > 0 {
		members++
	}
	dst = appendCBORRecordsHead(dst, members, len(e.records))
	var digits [64]byte
	for i := range e.records {
		r := &e.records[i]
		dst = appendCBORRecord(dst, r, e.seqs.Append(digits[:0], e.seqID, r.Seq), e.kms)
	}
	if e.continuation != nil {
		dst = append(dst, cborContinuation...)
		dst = wire.AppendCBORText(dst, *e.continuation)
	}
	dst = append(dst, cborMillisBehind...)
	dst = wire.AppendCBORInt(dst, e.millisBehind)
	if len(e.childShards) > 0 {
		dst = append(dst, cborChildShards...)
		dst = wire.AppendCBORHead(dst, wire.CBORArray, uint64(len(e.childShards)))
		for _, c := range e.childShards {
			dst = appendCBORChildShard(dst, c.ShardId, c.ParentShards, c.HashKeyRange.StartingHashKey, c.HashKeyRange.EndingHashKey)
		}
	}
	return dst
}

// recordCBOROverhead bounds the bytes of one record's CBOR besides its data
// and partition key: member names, heads, a 56-digit sequence number and a
// timestamp.
const recordCBOROverhead = 180

// AppendJSON encodes the event without reflection or a copy of the records,
// as encoding/json encodes its wire shape. It sizes dst once for the whole
// event (up to maxEventBytes of data).
func (e *subscribeToShardEvent) AppendJSON(dst []byte) []byte {
	dst = slices.Grow(dst, recordsSize(e.records, false))
	dst = append(dst, `{"Records":[`...)
	for i, r := range e.records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"SequenceNumber":"`...)
		dst = e.seqs.Append(dst, e.seqID, r.Seq)
		dst = append(dst, `","ApproximateArrivalTimestamp":`...)
		dst = wire.AppendEpochMs(dst, r.ArrivalMs)
		dst = append(dst, `,"Data":`...)
		dst = wire.AppendBase64(dst, r.Data)
		dst = append(dst, `,"PartitionKey":`...)
		dst = wire.AppendJSONString(dst, r.PartitionKey)
		if e.kms {
			dst = append(dst, `,"EncryptionType":"KMS"`...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if e.continuation != nil {
		dst = append(dst, `,"ContinuationSequenceNumber":"`...)
		dst = append(dst, *e.continuation...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, e.millisBehind, 10)
	if e.childShards != nil {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range e.childShards {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ShardId":`...)
			dst = wire.AppendJSONString(dst, c.ShardId)
			dst = append(dst, `,"ParentShards":[`...)
			for j, p := range c.ParentShards {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = wire.AppendJSONString(dst, p)
			}
			dst = append(dst, `],"HashKeyRange":{"StartingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.StartingHashKey...)
			dst = append(dst, `","EndingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.EndingHashKey...)
			dst = append(dst, `"}}`...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// childShard is the Kinesis ChildShard structure.
type childShard struct {
	ShardId      string
	ParentShards []string
	HashKeyRange hashKeyRange
}

// childShards lists the children of sh, for the last event of a closed
// shard.
func childShards(st *shard.Stream, sh *shard.Shard) []childShard {
	out := []childShard{}
	for _, c := range st.Shards() {
		if c.Parent() != sh.ID() && c.AdjacentParent() != sh.ID() {
			continue
		}
		parents := []string{c.Parent()}
		if p := c.AdjacentParent(); p != "" {
			parents = append(parents, p)
		}
		r := c.HashRange()
		out = append(out, childShard{
			ShardId:      c.ID(),
			ParentShards: parents,
			HashKeyRange: hashKeyRange{StartingHashKey: r.Start.String(), EndingHashKey: r.End.String()},
		})
	}
	return out
}
