package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// The CBOR of a GetRecords page is what CBOREncMode writes for its wire
// shape, a map of these members in this order (empty ones omitted):
//
//	Records            []{SequenceNumber, ApproximateArrivalTimestamp, Data, PartitionKey, EncryptionType}
//	NextShardIterator  string
//	MillisBehindLatest int64
//	ChildShards        []{ShardId, ParentShards []string, HashKeyRange{StartingHashKey, EndingHashKey}}
//
// TestGetRecordsCBORMatchesEncoder holds the two to the same bytes.

// cborKey is a member name encoded as a CBOR text string.
func cborKey(name string) string { return string(wire.AppendCBORText(nil, name)) }

var (
	cborRecords         = cborKey("Records")
	cborNextIterator    = cborKey("NextShardIterator")
	cborMillisBehind    = cborKey("MillisBehindLatest")
	cborChildShards     = cborKey("ChildShards")
	cborSeqNumber       = cborKey("SequenceNumber")
	cborArrival         = cborKey("ApproximateArrivalTimestamp")
	cborData            = cborKey("Data")
	cborPartitionKey    = cborKey("PartitionKey")
	cborEncryption      = cborKey("EncryptionType") + cborKey("KMS")
	cborShardID         = cborKey("ShardId")
	cborParentShards    = cborKey("ParentShards")
	cborHashKeyRange    = cborKey("HashKeyRange")
	cborStartingHashKey = cborKey("StartingHashKey")
	cborEndingHashKey   = cborKey("EndingHashKey")
)

// cborMembers is how many members the page's map holds.
func (o *getRecordsOutput) cborMembers() uint64 {
	n := uint64(2) // Records, MillisBehindLatest
	if !o.res.AtEnd {
		n++ // NextShardIterator
	} else if len(o.children) > 0 {
		n++ // ChildShards
	}
	return n
}

// recordMembers is how many members a record's map holds.
func (o *getRecordsOutput) recordMembers() uint64 {
	if o.kms {
		return 5
	}
	return 4
}

// appendCBORHead appends what precedes the records.
func (o *getRecordsOutput) appendCBORHead(dst []byte) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, o.cborMembers())
	dst = append(dst, cborRecords...)
	return wire.AppendCBORHead(dst, wire.CBORArray, uint64(len(o.res.Records)))
}

// appendCBORRecord appends r, whose sequence number is seq.
func (o *getRecordsOutput) appendCBORRecord(dst []byte, r *shard.Record, seq []byte) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, o.recordMembers())
	dst = append(dst, cborSeqNumber...)
	dst = wire.AppendCBORText(dst, seq)
	dst = append(dst, cborArrival...)
	dst = wire.AppendCBOREpochMs(dst, r.ArrivalMs)
	dst = append(dst, cborData...)
	dst = wire.AppendCBORBlob(dst, r.Data)
	dst = append(dst, cborPartitionKey...)
	dst = wire.AppendCBORText(dst, r.PartitionKey)
	if o.kms {
		dst = append(dst, cborEncryption...)
	}
	return dst
}

// appendCBORTail appends what follows the records.
func (o *getRecordsOutput) appendCBORTail(dst []byte) []byte {
	if !o.res.AtEnd {
		dst = append(dst, cborNextIterator...)
		dst = wire.AppendCBORText(dst, o.nextIterator)
	}
	dst = append(dst, cborMillisBehind...)
	dst = wire.AppendCBORInt(dst, o.res.MillisBehind)
	if !o.res.AtEnd || len(o.children) == 0 {
		return dst
	}
	dst = append(dst, cborChildShards...)
	dst = wire.AppendCBORHead(dst, wire.CBORArray, uint64(len(o.children)))
	for _, c := range o.children {
		dst = wire.AppendCBORHead(dst, wire.CBORMap, 3)
		dst = append(dst, cborShardID...)
		dst = wire.AppendCBORText(dst, c.ID())
		dst = append(dst, cborParentShards...)
		adjacent := c.AdjacentParent()
		parents := uint64(1)
		if adjacent != "" {
			parents = 2
		}
		dst = wire.AppendCBORHead(dst, wire.CBORArray, parents)
		dst = wire.AppendCBORText(dst, c.Parent())
		if adjacent != "" {
			dst = wire.AppendCBORText(dst, adjacent)
		}
		r := c.HashRange()
		dst = append(dst, cborHashKeyRange...)
		dst = wire.AppendCBORHead(dst, wire.CBORMap, 2)
		dst = append(dst, cborStartingHashKey...)
		dst = wire.AppendCBORText(dst, r.Start.String())
		dst = append(dst, cborEndingHashKey...)
		dst = wire.AppendCBORText(dst, r.End.String())
	}
	return dst
}

// cborLen is the exact length of the CBOR response, computed without
// copying the records' data.
func (o *getRecordsOutput) cborLen() int {
	var head [32]byte
	n := len(o.appendCBORHead(head[:0]))
	id := o.shard.SeqID()
	var seqs shard.SeqFormatter
	var digits [64]byte
	fixed := wire.CBORHeadLen(o.recordMembers()) + len(cborSeqNumber) + len(cborArrival) + len(cborData) + len(cborPartitionKey)
	if o.kms {
		fixed += len(cborEncryption)
	}
	for i := range o.res.Records {
		r := &o.res.Records[i]
		n += fixed + wire.CBORTextLen(len(seqs.Append(digits[:0], id, r.Seq))) +
			wire.CBOREpochMsLen(r.ArrivalMs) + wire.CBORBlobLen(r.Data) + wire.CBORTextLen(len(r.PartitionKey))
	}
	var tail [1024]byte
	return n + len(o.appendCBORTail(tail[:0]))
}
