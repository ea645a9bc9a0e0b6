package ops

import (
	"slices"
	"strconv"
	"time"

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

// subscribeToShardEventShape is the Kinesis SubscribeToShardEvent structure,
// the wire shape of subscribeToShardEvent.
type subscribeToShardEventShape struct {
	Records []eventRecord
	// ContinuationSequenceNumber is nil in the last event of a closed shard.
	ContinuationSequenceNumber *string `json:",omitempty"`
	MillisBehindLatest         int64
	ChildShards                []childShard `json:",omitempty"`
}

// eventRecord is the Kinesis Record structure as events carry it.
type eventRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp wire.EpochTime
	Data                        []byte
	PartitionKey                string
	EncryptionType              string `json:",omitempty"`
}

// CBORShape copies the event into its wire shape.
func (e *subscribeToShardEvent) CBORShape() any {
	out := &subscribeToShardEventShape{
		Records:                    make([]eventRecord, 0, len(e.records)),
		ContinuationSequenceNumber: e.continuation,
		MillisBehindLatest:         e.millisBehind,
		ChildShards:                e.childShards,
	}
	for _, r := range e.records {
		er := eventRecord{
			SequenceNumber:              string(shard.FormatSequenceNumber(nil, e.seqID, r.Seq)),
			ApproximateArrivalTimestamp: wire.EpochTime{Time: time.UnixMilli(r.ArrivalMs)},
			Data:                        r.Data,
			PartitionKey:                string(r.PartitionKey),
		}
		if e.kms {
			er.EncryptionType = "KMS"
		}
		out.Records = append(out.Records, er)
	}
	return out
}

// AppendJSON encodes the event without reflection or a copy of the records,
// as encoding/json encodes its wire shape. It sizes dst once for the whole
// event (up to maxEventBytes of data).
func (e *subscribeToShardEvent) AppendJSON(dst []byte) []byte {
	need := 256
	for _, r := range e.records {
		need += (len(r.Data)+2)/3*4 + len(r.PartitionKey) + recordJSONOverhead
	}
	dst = slices.Grow(dst, need)
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
