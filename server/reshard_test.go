package server

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

// shardIDs lists the ids of shards, in order, as "0,2,3" (indexes only).
func shardIDs(shards []types.Shard) string {
	var ids []string
	for _, sh := range shards {
		n, err := strconv.Atoi(strings.TrimPrefix(*sh.ShardId, "shardId-"))
		if err != nil {
			return "bad id " + *sh.ShardId
		}
		ids = append(ids, strconv.Itoa(n))
	}
	return strings.Join(ids, ",")
}

func describeShards(t *testing.T, c testClient, name string) map[string]types.Shard {
	t.Helper()
	d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.Shard{}
	for _, sh := range d.StreamDescription.Shards {
		m[*sh.ShardId] = sh
	}
	return m
}

func TestReshardLineage(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "lineage-" + c.name
		e.createStream(name, 2)
		put, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p"),
			ExplicitHashKey: aws.String("5"), Data: []byte("x")})
		if err != nil || *put.ShardId != "shardId-000000000000" {
			t.Fatalf("put: %v %+v", err, put)
		}
		before := describeShards(t, c, name)["shardId-000000000000"]
		split := "100000000000000000000000000000000000"
		if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String("0"), NewStartingHashKey: aws.String(split)}); err != nil {
			t.Fatal(err)
		}
		shards := describeShards(t, c, name)
		parent, lo, hi := shards["shardId-000000000000"], shards["shardId-000000000002"], shards["shardId-000000000003"]
		if parent.SequenceNumberRange.EndingSequenceNumber == nil || *parent.SequenceNumberRange.EndingSequenceNumber != *put.SequenceNumber ||
			*parent.SequenceNumberRange.StartingSequenceNumber != *before.SequenceNumberRange.StartingSequenceNumber {
			t.Fatalf("closed parent %+v, record %s", parent.SequenceNumberRange, *put.SequenceNumber)
		}
		if *lo.ParentShardId != "shardId-000000000000" || lo.AdjacentParentShardId != nil || *lo.HashKeyRange.StartingHashKey != "0" ||
			*lo.HashKeyRange.EndingHashKey != "99999999999999999999999999999999999" ||
			*hi.ParentShardId != "shardId-000000000000" || *hi.HashKeyRange.StartingHashKey != split ||
			*hi.HashKeyRange.EndingHashKey != *parent.HashKeyRange.EndingHashKey || lo.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Fatalf("children %+v %+v", lo, hi)
		}
		if _, err := c.sdk.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name),
			ShardToMerge: aws.String("shardId-000000000003"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
			t.Fatal(err)
		}
		merged := describeShards(t, c, name)["shardId-000000000004"]
		if *merged.ParentShardId != "shardId-000000000003" || *merged.AdjacentParentShardId != "shardId-000000000002" ||
			*merged.HashKeyRange.StartingHashKey != "0" || *merged.HashKeyRange.EndingHashKey != *parent.HashKeyRange.EndingHashKey {
			t.Fatalf("merged %+v", merged)
		}
		up, err := c.sdk.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + name),
			TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
		if err != nil {
			t.Fatal(err)
		}
		if *up.CurrentShardCount != 2 || *up.TargetShardCount != 3 || *up.StreamName != name || !strings.HasSuffix(*up.StreamARN, ":stream/"+name) {
			t.Fatalf("update %+v", up)
		}
		ls, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
		if err != nil {
			t.Fatal(err)
		}
		if got := shardIDs(ls.Shards); got != "5,6,7" {
			t.Fatalf("open after UpdateShardCount: %s", got)
		}
		for _, sh := range ls.Shards {
			if sh.ParentShardId == nil {
				t.Fatalf("scaled shard without parent: %+v", sh)
			}
		}
		sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil || *sum.StreamDescriptionSummary.OpenShardCount != 3 {
			t.Fatalf("summary %v %+v", err, sum)
		}
	})
}

func TestReshardErrors(t *testing.T) {
	e := newEnv(t)
	e.createStream("rs", 2)
	c := e.clients[0]
	name := aws.String("rs")
	if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("500")})
	wantAPIError(t, err, wire.InvalidArgument, "Shard shardId-000000000000 in stream rs under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.")
	_, err = c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000099"), NewStartingHashKey: aws.String("500")})
	wantAPIError(t, err, wire.ResourceNotFound, "Could not find shard shardId-000000000099 in stream rs under account 000000000000.")
	_, err = c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("1")})
	wantAPIError(t, err, wire.InvalidArgument, "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000002 in stream rs under account 000000000000 "+
		"is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 999.")
	_, err = c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("999999999999999999999999999999999999999")})
	wantAPIError(t, err, wire.InvalidArgument, "NewStartingHashKey 999999999999999999999999999999999999999 used in SplitShard()")
	_, err = c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("none"), ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("5")})
	wantAPIError(t, err, wire.ResourceNotFound, "Stream none under account 000000000000 not found.")
	_, err = c.sdk.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	wantAPIError(t, err, wire.InvalidArgument, "Shards shardId-000000000002 and shardId-000000000001 in stream rs under account 000000000000 are not an adjacent pair of shards eligible for merging")
	_, err = c.sdk.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	wantAPIError(t, err, wire.InvalidArgument, "Shard shardId-000000000000 in stream rs under account 000000000000 has already been merged or split")

	// Open shards: 1, 2 and 3.
	usc := func(target int32) error {
		_, err := c.sdk.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(target), ScalingType: types.ScalingTypeUniformScaling})
		return err
	}
	wantAPIError(t, usc(7), wire.LimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 3, Target shard count: 7")
	wantAPIError(t, usc(1), wire.LimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 3, Target shard count: 1")
	wantAPIError(t, usc(3), wire.InvalidArgument, "Target shard count 3 is the same as the current open shard count")

	raw := e.clients[1]
	wantRawError(t, raw.call(t, e.addr, "SplitShard", `{"StreamName":"rs"}`), wire.Validation,
		"2 validation errors detected: Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null; "+
			"Value null at 'shardToSplit' failed to satisfy constraint: Member must not be null")
	wantRawError(t, raw.call(t, e.addr, "SplitShard", map[string]any{"StreamName": "rs", "ShardToSplit": "shardId-000000000002", "NewStartingHashKey": "01"}), wire.Validation,
		"1 validation error detected: Value '01' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	wantRawError(t, raw.call(t, e.addr, "MergeShards", `{"StreamName":"rs","ShardToMerge":""}`), wire.Validation,
		"3 validation errors detected: Value '' at 'shardToMerge' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
			"Value '' at 'shardToMerge' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
			"Value null at 'adjacentShardToMerge' failed to satisfy constraint: Member must not be null")
	wantRawError(t, raw.call(t, e.addr, "UpdateShardCount", map[string]any{"StreamName": "rs", "TargetShardCount": 0, "ScalingType": "FAST"}), wire.Validation,
		"2 validation errors detected: Value 'FAST' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]; "+
			"Value '0' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
}

func TestListShardsFilters(t *testing.T) {
	var storeSkew atomic.Int64
	e := newEnvWithStore(t, func(o *shard.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(storeSkew.Load())) }
	})
	advance := func(d time.Duration) { storeSkew.Add(int64(d)); e.skew.Add(int64(d)) }
	t0 := time.Now()
	e.createStream("f", 2)
	advance(time.Hour) // t0+1h: split shard 0 into 2 and 3
	if err := mustStream(t, e, "f").SplitShard("shardId-000000000000", shard.HashKey{Lo: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	advance(time.Hour) // now t0+2h
	e.each(t, func(t *testing.T, c testClient) {
		list := func(f *types.ShardFilter) string {
			t.Helper()
			out, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("f"), ShardFilter: f})
			if err != nil {
				t.Fatal(err)
			}
			if out.NextToken != nil {
				t.Fatalf("NextToken on a short list")
			}
			return shardIDs(out.Shards)
		}
		at := func(d time.Duration) *time.Time { ts := t0.Add(d); return &ts }
		for _, tc := range []struct {
			filter *types.ShardFilter
			want   string
		}{
			{nil, "0,1,2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000001")}, "2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, "0,1"},
			{&types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, "0,1,2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, "1,2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: at(30 * time.Minute)}, "0,1"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: at(-time.Hour)}, "0,1"},
			{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: at(90 * time.Minute)}, "1,2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: at(30 * time.Minute)}, "0,1,2,3"},
			{&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: at(90 * time.Minute)}, "1,2,3"},
		} {
			if got := list(tc.filter); got != tc.want {
				t.Errorf("filter %+v: got %s, want %s", tc.filter, got, tc.want)
			}
		}
		out, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("f"), ExclusiveStartShardId: aws.String("shardId-000000000001")})
		if err != nil || shardIDs(out.Shards) != "2,3" {
			t.Fatalf("ExclusiveStartShardId: %v %+v", err, out)
		}
	})
	// Once the trim horizon (24 h back) passes the split, the closed parent
	// is out of both trim-horizon filters.
	advance(24 * time.Hour)
	c := e.clients[0]
	for typ, want := range map[types.ShardFilterType]string{types.ShardFilterTypeAtTrimHorizon: "1,2,3", types.ShardFilterTypeFromTrimHorizon: "1,2,3"} {
		out, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("f"), ShardFilter: &types.ShardFilter{Type: typ}})
		if err != nil || shardIDs(out.Shards) != want {
			t.Fatalf("%s a day later: %v %+v", typ, err, out)
		}
	}
}

// mustStream returns a stream of the env's store.
func mustStream(t *testing.T, e *testEnv, name string) *shard.Stream {
	t.Helper()
	st, err := e.store.Stream(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestListShardsPagingAndErrors(t *testing.T) {
	e := newEnv(t)
	e.createStream("many", 7)
	e.each(t, func(t *testing.T, c testClient) {
		var pages []string
		in := &kinesis.ListShardsInput{StreamName: aws.String("many"), MaxResults: aws.Int32(3)}
		for {
			out, err := c.sdk.ListShards(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, shardIDs(out.Shards))
			if out.NextToken == nil {
				break
			}
			in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(3)}
		}
		if strings.Join(pages, "|") != "0,1,2|3,4,5|6" {
			t.Fatalf("pages %q", pages)
		}
		first, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("many"), MaxResults: aws.Int32(2)})
		if err != nil || first.NextToken == nil {
			t.Fatalf("first page: %v %+v", err, first)
		}
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("many"), NextToken: first.NextToken})
		wantAPIError(t, err, wire.InvalidArgument, "NextToken and StreamName cannot be provided together.")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String("bm90IGEgdG9rZW4")})
		wantAPIError(t, err, wire.InvalidArgument, "Invalid NextToken")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{})
		wantAPIError(t, err, wire.InvalidArgument, "Either NextToken or StreamName should be provided.")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("many"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId}})
		wantAPIError(t, err, wire.InvalidArgument, "Must specify ShardId in ShardFilter")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("many"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp}})
		wantAPIError(t, err, wire.InvalidArgument, "Must specify Timestamp in ShardFilter")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("many"), StreamCreationTimestamp: aws.Time(time.Unix(1000, 0))})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream many under account 000000000000 not found.")
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("nope")})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account 000000000000 not found.")
		wantRawError(t, c.call(t, e.addr, "ListShards", map[string]any{"StreamName": "many", "MaxResults": 0}), wire.Validation,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")

		e.skew.Add(int64(6 * time.Minute))
		defer e.skew.Add(-int64(6 * time.Minute))
		_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{NextToken: first.NextToken})
		wantAPIError(t, err, wire.ExpiredNextToken, "The NextToken has expired")
	})
}
