package ops

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/shardlog/shardlog/shard"
)

// TestSubscribeToShardEventJSON: the hand-written encoding of an event is
// byte for byte what encoding/json writes for its wire shape (without HTML
// escaping), across
// events of one subscription (the sequence formatter carries over), with
// and without KMS, a continuation or child shards.
func TestSubscribeToShardEventJSON(t *testing.T) {
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
		if err := enc.Encode(ev.CBORShape()); err != nil {
			t.Fatal(err)
		}
		if got := string(ev.AppendJSON(nil)) + "\n"; got != want.String() {
			t.Fatalf("AppendJSON = %s\nwant          %s", got, want.String())
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
	// none (encoding/json would omit the empty list), as GetRecords does.
	ev.records, ev.continuation, ev.childShards = nil, nil, []childShard{}
	if got, want := string(ev.AppendJSON(nil)), `{"Records":[],"MillisBehindLatest":1234,"ChildShards":[]}`; got != want {
		t.Fatalf("AppendJSON = %s, want %s", got, want)
	}
}
