package ops

import (
	"strconv"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// subscribeToShardEvent is the Kinesis SubscribeToShardEvent structure. Its
// records alias mapped segment memory that must stay held until encoded.
type subscribeToShardEvent struct {
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

// childShard is the Kinesis ChildShard structure.
type childShard struct {
	ShardId      string
	ParentShards []string
	HashKeyRange hashKeyRange
}

// AppendJSON encodes the event without reflection.
func (e *subscribeToShardEvent) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"Records":[`...)
	for i := range e.Records {
		r := &e.Records[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"SequenceNumber":"`...)
		dst = append(dst, r.SequenceNumber...)
		dst = append(dst, `","ApproximateArrivalTimestamp":`...)
		dst = wire.AppendEpochMs(dst, r.ApproximateArrivalTimestamp.UnixMilli())
		dst = append(dst, `,"Data":`...)
		dst = wire.AppendBase64(dst, r.Data)
		dst = append(dst, `,"PartitionKey":`...)
		dst = wire.AppendJSONString(dst, r.PartitionKey)
		if r.EncryptionType != "" {
			dst = append(dst, `,"EncryptionType":`...)
			dst = wire.AppendJSONString(dst, r.EncryptionType)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if e.ContinuationSequenceNumber != nil {
		dst = append(dst, `,"ContinuationSequenceNumber":"`...)
		dst = append(dst, *e.ContinuationSequenceNumber...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, e.MillisBehindLatest, 10)
	if e.ChildShards != nil {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range e.ChildShards {
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
