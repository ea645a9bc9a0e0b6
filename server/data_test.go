package server

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/shardlog/shardlog/shard"
)

var ctx = context.Background()

// wantAPIError fails unless err is an API error of type typ whose message
// starts with msgPrefix.
func wantAPIError(t *testing.T, err error, typ, msgPrefix string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, typ)
	}
	if ae.ErrorCode() != typ || !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
		t.Fatalf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), typ, msgPrefix)
	}
}

func iter(t *testing.T, c testClient, stream, shardID string, typ types.ShardIteratorType, seq *string, ts *time.Time) string {
	t.Helper()
	out, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shardID), ShardIteratorType: typ,
		StartingSequenceNumber: seq, Timestamp: ts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ShardIterator
}

// readAll reads from it until a call returns no records.
func readAll(t *testing.T, c testClient, it string) []types.Record {
	t.Helper()
	var all []types.Record
	for {
		out, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Records...)
		if len(out.Records) == 0 || out.NextShardIterator == nil {
			return all
		}
		it = *out.NextShardIterator
	}
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(4) == 0 {
			continue // plenty of zeros
		}
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPutGetRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "rt-" + c.name
		e.createStream(name, 1)
		r := rand.New(rand.NewPCG(1, 2))
		var sent [][]byte
		var seqs []string
		before := time.Now().Add(-time.Second)
		for i := 0; i < 5; i++ {
			d := randomBytes(r, r.IntN(300))
			out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("pk" + strconv.Itoa(i)), Data: d})
			if err != nil {
				t.Fatal(err)
			}
			if *out.ShardId != "shardId-000000000000" || out.EncryptionType != types.EncryptionTypeNone {
				t.Fatalf("PutRecord answered %+v", out)
			}
			sent, seqs = append(sent, d), append(seqs, *out.SequenceNumber)
		}
		entries := []types.PutRecordsRequestEntry{{Data: []byte{}, PartitionKey: aws.String("empty")}, {Data: []byte{0, 0, 0}, PartitionKey: aws.String("zeros")}}
		for i := 0; i < 20; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{Data: randomBytes(r, r.IntN(2000)), PartitionKey: aws.String("ü-" + strconv.Itoa(i))})
		}
		pr, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(e.store.StreamARN(name)), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		if *pr.FailedRecordCount != 0 || len(pr.Records) != len(entries) {
			t.Fatalf("PutRecords answered %+v", pr)
		}
		for i, rr := range pr.Records {
			sent, seqs = append(sent, entries[i].Data), append(seqs, *rr.SequenceNumber)
		}
		got := readAll(t, c, iter(t, c, name, "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, nil, nil))
		if len(got) != len(sent) {
			t.Fatalf("read %d records, sent %d", len(got), len(sent))
		}
		for i, g := range got {
			if !bytes.Equal(g.Data, sent[i]) || *g.SequenceNumber != seqs[i] {
				t.Fatalf("record %d: got %x %s, want %x %s", i, g.Data, *g.SequenceNumber, sent[i], seqs[i])
			}
			if i >= 5 && *g.PartitionKey != *entries[i-5].PartitionKey {
				t.Fatalf("record %d: partition key %q", i, *g.PartitionKey)
			}
			if at := *g.ApproximateArrivalTimestamp; at.Before(before) || at.After(time.Now().Add(time.Second)) {
				t.Fatalf("record %d: arrival %v", i, at)
			}
		}
		for i := 1; i < len(seqs); i++ {
			if len(seqs[i]) != len(seqs[i-1]) || seqs[i] <= seqs[i-1] {
				t.Fatalf("sequence numbers not increasing: %s then %s", seqs[i-1], seqs[i])
			}
		}
	})
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	const shards = 5
	ranges := shard.SplitEvenly(shards)
	want := func(k shard.HashKey) string {
		for i, r := range ranges {
			if r.Contains(k) {
				return "shardId-" + strings.Repeat("0", 12-len(strconv.Itoa(i))) + strconv.Itoa(i)
			}
		}
		t.Fatalf("no range holds %v", k)
		return ""
	}
	e.each(t, func(t *testing.T, c testClient) {
		name := "route-" + c.name
		e.createStream(name, shards)
		var entries []types.PutRecordsRequestEntry
		var wantShard []string
		for i := 0; i < 100; i++ {
			pk := "key-" + strconv.Itoa(i)
			entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(pk), PartitionKey: aws.String(pk)})
			wantShard = append(wantShard, want(shard.HashPartitionKey([]byte(pk))))
		}
		for _, r := range ranges {
			for _, k := range []shard.HashKey{r.Start, r.End} {
				entries = append(entries, types.PutRecordsRequestEntry{Data: []byte("x"), PartitionKey: aws.String("ignored"), ExplicitHashKey: aws.String(k.String())})
				wantShard = append(wantShard, want(k))
			}
		}
		out, err := c.sdk.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range out.Records {
			if *r.ShardId != wantShard[i] {
				t.Errorf("record %d (%v): shard %s, want %s", i, entries[i].ExplicitHashKey, *r.ShardId, wantShard[i])
			}
		}
		for _, k := range []string{"0", shard.MaxHashKey.String(), ranges[2].Start.Sub1().String()} {
			pr, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p"), ExplicitHashKey: aws.String(k), Data: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			key, _ := shard.ParseHashKey(k)
			if *pr.ShardId != want(key) {
				t.Errorf("PutRecord with hash key %s: shard %s, want %s", k, *pr.ShardId, want(key))
			}
			wantShard = append(wantShard, want(key))
		}
		// Every shard holds exactly what was routed to it.
		perShard := map[string]int{}
		for _, s := range wantShard {
			perShard[s]++
		}
		for i := 0; i < shards; i++ {
			id := want(ranges[i].Start)
			got := readAll(t, c, iter(t, c, name, id, types.ShardIteratorTypeTrimHorizon, nil, nil))
			if len(got) != perShard[id] {
				t.Errorf("shard %s holds %d records, want %d", id, len(got), perShard[id])
			}
		}
	})
}

func TestIteratorTypes(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "types-" + c.name
		e.createStream(name, 1)
		const id = "shardId-000000000000"
		latest := iter(t, c, name, id, types.ShardIteratorTypeLatest, nil, nil)
		var seqs []string
		var arrivals []time.Time
		for i := 0; i < 5; i++ {
			out, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte{byte(i)}})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, *out.SequenceNumber)
			time.Sleep(3 * time.Millisecond)
		}
		all := readAll(t, c, iter(t, c, name, id, types.ShardIteratorTypeTrimHorizon, nil, nil))
		for _, r := range all {
			arrivals = append(arrivals, *r.ApproximateArrivalTimestamp)
		}
		first := func(it string) []byte {
			t.Helper()
			got := readAll(t, c, it)
			var b []byte
			for _, r := range got {
				b = append(b, r.Data...)
			}
			return b
		}
		f := func(typ types.ShardIteratorType, seq *string, ts *time.Time, want []byte) {
			t.Helper()
			if got := first(iter(t, c, name, id, typ, seq, ts)); !bytes.Equal(got, want) {
				t.Errorf("%s: read %v, want %v", typ, got, want)
			}
		}
		f(types.ShardIteratorTypeTrimHorizon, nil, nil, []byte{0, 1, 2, 3, 4})
		f(types.ShardIteratorTypeAtSequenceNumber, &seqs[2], nil, []byte{2, 3, 4})
		f(types.ShardIteratorTypeAfterSequenceNumber, &seqs[2], nil, []byte{3, 4})
		f(types.ShardIteratorTypeAfterSequenceNumber, &seqs[4], nil, nil)
		old := time.Now().Add(-time.Hour)
		f(types.ShardIteratorTypeAtTimestamp, nil, &old, []byte{0, 1, 2, 3, 4})
		f(types.ShardIteratorTypeAtTimestamp, nil, &arrivals[3], []byte{3, 4})
		f(types.ShardIteratorTypeLatest, nil, nil, nil)
		if got := first(latest); !bytes.Equal(got, []byte{0, 1, 2, 3, 4}) {
			t.Errorf("LATEST taken before the puts read %v", got)
		}
	})
}
