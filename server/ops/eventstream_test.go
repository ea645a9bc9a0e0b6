package ops

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// TestSubscribeToShardEventEncoders: the hand-written encodings of an
// event are byte for byte what encoding/json (without HTML escaping) and
// CBOREncMode write for its wire shape, across events of one subscription
// (the sequence formatter carries over), with and without KMS, a
// continuation or child shards.
func TestSubscribeToShardEventEncoders(t *testing.T) {
	id := shard.SeqID{EpochMs: 1700000000123, Index: 7}
	recs := func(from uint64, n int) []shard.Record {
		out := make([]shard.Record, n)
		for i := range out {
			out[i] = shard.Record{
				Seq:          from + uint64(i),
				ArrivalMs:    1700000000000 + int64(i)*1001,
				PartitionKey: []byte("pk \"é\"\\\n<&>" + string(rune('a'+i))),
				Data:         []byte("data-" + string(rune('a'+i)) + "\x00\xff"),
			}
		}
		return out
	}
	cont := "49039859695685658495517785647037787851914786837991784449"
	var ev subscribeToShardEvent // reused, as Pump does
	f := func(records []shard.Record, kms bool, continuation *string, children []childShard) {
		t.Helper()
		ev.records, ev.seqID, ev.kms = records, id, kms
		ev.continuation, ev.millisBehind, ev.childShards = continuation, 1234, children
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // as wire.AppendJSONString
		if err := enc.Encode(eventReference(&ev)); err != nil {
			t.Fatal(err)
		}
		formatter := ev.seqs // each encoding formats the same positions
		if got := string(ev.AppendJSON(nil)) + "\n"; got != want.String() {
			t.Fatalf("AppendJSON = %s\nwant          %s", got, want.String())
		}
		ev.seqs = formatter
		wantCBOR, err := wire.CBOREncMode.Marshal(eventReference(&ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.AppendCBOR(nil); !bytes.Equal(got, wantCBOR) {
			t.Fatalf("AppendCBOR = % x\nwant         % x", got, wantCBOR)
		}
	}
	f(recs(0, 3), false, &cont, nil)
	f(recs(3, 5), true, &cont, nil) // continues the run of positions
	f(recs(100, 2), false, &cont, nil)
	f(nil, false, &cont, nil) // a heartbeat
	f(recs(102, 1), false, nil, nil)
	f(nil, false, nil, []childShard{
		{ShardId: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: hashKeyRange{StartingHashKey: "0", EndingHashKey: "170141183460469231731687303715884105727"}},
		{ShardId: "shardId-000000000002", ParentShards: []string{"shardId-000000000000", "shardId-000000000003"},
			HashKeyRange: hashKeyRange{StartingHashKey: "170141183460469231731687303715884105728", EndingHashKey: "340282366920938463463374607431768211455"}},
	})

	// The last event of a closed shard says ChildShards even when it has
	// none (encoding/json would omit the empty list), as GetRecords does;
	// CBOR omits it, as its encoder does.
	ev.records, ev.continuation, ev.childShards = nil, nil, []childShard{}
	if got, want := string(ev.AppendJSON(nil)), `{"Records":[],"MillisBehindLatest":1234,"ChildShards":[]}`; got != want {
		t.Fatalf("AppendJSON = %s, want %s", got, want)
	}
	if want, _ := wire.CBOREncMode.Marshal(eventReference(&ev)); !bytes.Equal(ev.AppendCBOR(nil), want) {
		t.Fatalf("AppendCBOR = % x, want % x", ev.AppendCBOR(nil), want)
	}
}

// subscribeToShardEventShape is the Kinesis SubscribeToShardEvent
// structure, the wire shape of subscribeToShardEvent.
type subscribeToShardEventShape struct {
	Records []eventRecord
	// ContinuationSequenceNumber is nil in the last event of a closed shard.
	ContinuationSequenceNumber *string `json:",omitempty"`
	MillisBehindLatest         int64
	ChildShards                []childShard `json:",omitempty"`
}

// eventRecord is the Kinesis Record structure as events and GetRecords
// pages carry it.
type eventRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp wire.EpochTime
	Data                        []byte
	PartitionKey                string
	EncryptionType              string `json:",omitempty"`
}

// eventReference copies e into its wire shape, which the encoders encode
// as AppendJSON and AppendCBOR must.
func eventReference(e *subscribeToShardEvent) *subscribeToShardEventShape {
	return &subscribeToShardEventShape{
		Records:                    referenceRecords(e.records, e.seqID, e.kms),
		ContinuationSequenceNumber: e.continuation,
		MillisBehindLatest:         e.millisBehind,
		ChildShards:                e.childShards,
	}
}

// referenceRecords copies records of the shard id into their wire shape.
func referenceRecords(records []shard.Record, id shard.SeqID, kms bool) []eventRecord {
	out := make([]eventRecord, 0, len(records))
	for _, r := range records {
		er := eventRecord{
			SequenceNumber:              string(shard.FormatSequenceNumber(nil, id, r.Seq)),
			ApproximateArrivalTimestamp: wire.EpochTime{Time: time.UnixMilli(r.ArrivalMs)},
			Data:                        r.Data,
			PartitionKey:                string(r.PartitionKey),
		}
		if kms {
			er.EncryptionType = "KMS"
		}
		out = append(out, er)
	}
	return out
}
