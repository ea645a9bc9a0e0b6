package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// The CBOR of a GetRecords page, or of a SubscribeToShardEvent, is what
// CBOREncMode writes for its wire shape: a map of these members in this
// order, empty ones omitted:
//
//	Records                    []{SequenceNumber, ApproximateArrivalTimestamp, Data, PartitionKey, EncryptionType}
//	NextShardIterator          string (GetRecords)
//	ContinuationSequenceNumber string (events)
//	MillisBehindLatest         int64
//	ChildShards                []{ShardId, ParentShards []string, HashKeyRange{StartingHashKey, EndingHashKey}}
//
// TestGetRecordsStreamMatchesEncoders and TestSubscribeToShardEventEncoders
// hold them to the same bytes.

// cborKey is a member name encoded as a CBOR text string.
func cborKey(name string) string { return string(wire.AppendCBORText(nil, name)) }

var (
	cborRecords         = cborKey("Records")
	cborNextIterator    = cborKey("NextShardIterator")
	cborContinuation    = cborKey("ContinuationSequenceNumber")
	cborMillisBehind    = cborKey("MillisBehindLatest")
	cborChildShards     = cborKey("ChildShards")
	cborSeqNumber       = cborKey("SequenceNumber")
	cborArrival         = cborKey("ApproximateArrivalTimestamp")
	cborData            = cborKey("Data")
	cborPartitionKey    = cborKey("PartitionKey")
	cborEncryptionType  = cborKey("EncryptionType")
	cborEncryption      = cborEncryptionType + cborKey("KMS")
	cborFailedCount     = cborKey("FailedRecordCount")
	cborErrorCode       = cborKey("ErrorCode")
	cborErrorMessage    = cborKey("ErrorMessage")
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

// appendCBORHead appends what precedes the records.
func (o *getRecordsOutput) appendCBORHead(dst []byte) []byte {
	return appendCBORRecordsHead(dst, o.cborMembers(), len(o.res.Records))
}

// appendCBORRecordsHead appends the head of a map of members members
// whose first, Records, holds n records.
func appendCBORRecordsHead(dst []byte, members uint64, n int) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, members)
	dst = append(dst, cborRecords...)
	return wire.AppendCBORHead(dst, wire.CBORArray, uint64(n))
}

// recordMembers is how many members a record's map holds.
func recordMembers(kms bool) uint64 {
	if kms {
		return 5
	}
	return 4
}

// appendCBORRecord appends r, whose sequence number is seq.
func appendCBORRecord(dst []byte, r *shard.Record, seq []byte, kms bool) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, recordMembers(kms))
	dst = append(dst, cborSeqNumber...)
	dst = wire.AppendCBORText(dst, seq)
	dst = append(dst, cborArrival...)
	dst = wire.AppendCBOREpochMs(dst, r.ArrivalMs)
	dst = append(dst, cborData...)
	dst = wire.AppendCBORBlob(dst, r.Data)
	dst = append(dst, cborPartitionKey...)
	dst = wire.AppendCBORText(dst, r.PartitionKey)
	if kms {
		dst = append(dst, cborEncryption...)
	}
	return dst
}

// appendCBORChildShard appends one ChildShard.
func appendCBORChildShard(dst []byte, id string, parents []string, start, end string) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, 3)
	dst = append(dst, cborShardID...)
	dst = wire.AppendCBORText(dst, id)
	dst = append(dst, cborParentShards...)
	dst = wire.AppendCBORHead(dst, wire.CBORArray, uint64(len(parents)))
	for _, p := range parents {
		dst = wire.AppendCBORText(dst, p)
	}
	dst = append(dst, cborHashKeyRange...)
	dst = wire.AppendCBORHead(dst, wire.CBORMap, 2)
	dst = append(dst, cborStartingHashKey...)
	dst = wire.AppendCBORText(dst, start)
	dst = append(dst, cborEndingHashKey...)
	return wire.AppendCBORText(dst, end)
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
		parents := [2]string{c.Parent(), c.AdjacentParent()}
		n := 1
		if parents[1] != "" {
			n = 2
		}
		r := c.HashRange()
		dst = appendCBORChildShard(dst, c.ID(), parents[:n], r.Start.String(), r.End.String())
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
	fixed := wire.CBORHeadLen(recordMembers(o.kms)) + len(cborSeqNumber) + len(cborArrival) + len(cborData) + len(cborPartitionKey)
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
