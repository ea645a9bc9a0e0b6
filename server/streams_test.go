package server

import (
	"fmt"
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

// newEnvWithStore is newEnv with a store opened under adjusted options
// (delays, retention floor, clock). The harness opens its store with the
// defaults, so this closes that one and serves a new one on the same
// directory and address; restart would go back to the defaults.
func newEnvWithStore(t *testing.T, storeOpts func(*shard.Options), opts ...func(*Options)) *testEnv {
	t.Helper()
	e := newEnv(t, opts...)
	e.stop()
	so := shard.DefaultOptions(e.dir)
	so.Logger = e.opts.Logger
	storeOpts(&so)
	st, err := shard.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	ln := e.listen()
	e.srv = New(st, e.opts)
	e.serveDone = make(chan error, 1)
	go func() { e.serveDone <- e.srv.Serve(ln) }()
	return e
}

// wantRawError checks a hand-made request's error type and exact message.
func wantRawError(t *testing.T, r rawResponse, typ, msg string) {
	t.Helper()
	if r.status != 400 || r.body["__type"] != typ || r.body["message"] != msg {
		t.Fatalf("got %d %v %q,\nwant 400 %s %q", r.status, r.body["__type"], r.body["message"], typ, msg)
	}
}

func TestCreateDescribeDeleteStream(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "life-" + c.name
		_, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{
			StreamName: aws.String(name), ShardCount: aws.Int32(3),
			Tags: map[string]string{"team": "logs"}, MaxRecordSizeInKiB: aws.Int32(2048),
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		sd := d.StreamDescription
		if *sd.StreamName != name || *sd.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/"+name ||
			sd.StreamStatus != types.StreamStatusActive || sd.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
			*sd.RetentionPeriodHours != 24 || *sd.HasMoreShards || len(sd.Shards) != 3 || sd.EncryptionType != types.EncryptionTypeNone ||
			len(sd.EnhancedMonitoring) != 1 || sd.EnhancedMonitoring[0].ShardLevelMetrics == nil {
			t.Fatalf("description %+v", sd)
		}
		if time.Since(*sd.StreamCreationTimestamp) > time.Minute {
			t.Fatalf("creation timestamp %v", sd.StreamCreationTimestamp)
		}
		first, last := sd.Shards[0], sd.Shards[2]
		if *first.ShardId != "shardId-000000000000" || *first.HashKeyRange.StartingHashKey != "0" ||
			*last.HashKeyRange.EndingHashKey != "340282366920938463463374607431768211455" ||
			first.SequenceNumberRange.StartingSequenceNumber == nil || first.SequenceNumberRange.EndingSequenceNumber != nil ||
			first.ParentShardId != nil {
			t.Fatalf("shards %+v %+v", first, last)
		}
		sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: sd.StreamARN})
		if err != nil {
			t.Fatal(err)
		}
		ss := sum.StreamDescriptionSummary
		if *ss.OpenShardCount != 3 || *ss.ConsumerCount != 0 || *ss.MaxRecordSizeInKiB != 2048 || ss.StreamStatus != types.StreamStatusActive ||
			*ss.StreamName != name || ss.WarmThroughput != nil || ss.RecordDistributionStrategy != "" {
			t.Fatalf("summary %+v", ss)
		}
		_, err = c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)})
		wantAPIError(t, err, wire.ResourceInUse, "Stream "+name+" under account 000000000000 already exists.")
		if _, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		_, err = c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream "+name+" under account 000000000000 not found.")
		_, err = c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream "+name+" under account 000000000000 not found.")
	})
}

func TestCreateStreamOnDemand(t *testing.T) {
	e := newEnv(t)
	c := e.clients[1]
	_, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:          aws.String("od"),
		StreamModeDetails:   &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
		WarmThroughputMiBps: aws.Int32(10), RecordDistributionStrategy: types.RecordDistributionStrategyAuto,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("od")})
	if err != nil {
		t.Fatal(err)
	}
	ss := sum.StreamDescriptionSummary
	if *ss.OpenShardCount != 4 || ss.StreamModeDetails.StreamMode != types.StreamModeOnDemand || *ss.MaxRecordSizeInKiB != 1024 ||
		ss.WarmThroughput == nil || *ss.WarmThroughput.TargetMiBps != 10 || *ss.WarmThroughput.CurrentMiBps != 10 ||
		ss.RecordDistributionStrategy != types.RecordDistributionStrategyAuto {
		t.Fatalf("summary %+v", ss)
	}
	lim, err := c.sdk.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *lim.ShardLimit != 10000 || *lim.OpenShardCount != 4 || *lim.OnDemandStreamCount != 1 || *lim.OnDemandStreamCountLimit != 50 {
		t.Fatalf("limits %+v", lim)
	}
	_, err = c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("prov"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}})
	wantAPIError(t, err, wire.InvalidArgument, "ShardCount is required")
	_, err = c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("prov"), ShardCount: aws.Int32(1),
		RecordDistributionStrategy: types.RecordDistributionStrategyAuto})
	wantAPIError(t, err, wire.InvalidArgument, "RecordDistributionStrategy AUTO is only supported")
}

func TestCreateStreamValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 129)
	e.each(t, func(t *testing.T, c testClient) {
		wantRawError(t, c.call(t, e.addr, "CreateStream", `{}`), wire.Validation,
			"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null")
		wantRawError(t, c.call(t, e.addr, "CreateStream", map[string]any{"StreamName": "", "ShardCount": 0}), wire.Validation,
			"3 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; "+
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")
		wantRawError(t, c.call(t, e.addr, "CreateStream", map[string]any{"StreamName": long, "ShardCount": 1}), wire.Validation,
			"1 validation error detected: Value '"+long+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")
		wantRawError(t, c.call(t, e.addr, "CreateStream", map[string]any{"StreamName": "x", "ShardCount": 1, "MaxRecordSizeInKiB": 1023,
			"StreamModeDetails": map[string]any{"StreamMode": "FAST"}}), wire.Validation,
			"2 validation errors detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]; "+
				"Value '1023' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024")
		tags := map[string]string{}
		for i := 0; i < 51; i++ {
			tags[fmt.Sprint("k", i)] = "v"
		}
		_, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("tags"), ShardCount: aws.Int32(1), Tags: tags})
		wantAPIError(t, err, wire.InvalidArgument, "Failed to create stream tags under account 000000000000 because a given stream cannot have more than 50 tags")
		wantRawError(t, c.call(t, e.addr, "DescribeStream", map[string]any{"StreamName": "", "Limit": 0, "ExclusiveStartShardId": ""}), wire.Validation,
			"5 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; "+
				"Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
				"Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")
		wantRawError(t, c.call(t, e.addr, "DescribeStreamSummary", `{}`), wire.InvalidArgument, "Either StreamName or StreamARN must be provided.")
		wantRawError(t, c.call(t, e.addr, "DeleteStream", map[string]any{"StreamName": long}), wire.Validation,
			"1 validation error detected: Value '"+long+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")
		wantRawError(t, c.call(t, e.addr, "ListStreams", map[string]any{"Limit": 0}), wire.Validation,
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	})
}

func TestShardLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ShardLimit = 5; o.OnDemandStreamLimit = 1 })
	c := e.clients[0]
	if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("a"), ShardCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("b"), ShardCount: aws.Int32(3)})
	wantAPIError(t, err, wire.LimitExceeded, "This request would exceed the shard limit for the account 000000000000 in us-east-1. "+
		"Current shard count for the account: 3. Limit: 5. Number of additional shards that would have resulted from this request: 3.")
	_, err = c.sdk.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("a"), TargetShardCount: aws.Int32(6), ScalingType: types.ScalingTypeUniformScaling})
	wantAPIError(t, err, wire.LimitExceeded, "Target shard count or number of open shards cannot be greater than 5.")
	if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("b"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("a"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("10")})
	wantAPIError(t, err, wire.LimitExceeded, "This request would exceed the shard limit for the account 000000000000 in us-east-1. "+
		"Current shard count for the account: 5. Limit: 5. Number of additional shards that would have resulted from this request: 1.")
	_, err = c.sdk.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("b"), TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
	wantAPIError(t, err, wire.LimitExceeded, "This request would exceed the shard limit")
	if _, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	od := &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
	if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od1"), StreamModeDetails: od, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od2"), StreamModeDetails: od, ShardCount: aws.Int32(1)})
	wantAPIError(t, err, wire.LimitExceeded, "This request would exceed the on-demand stream count limit")
	lim, err := c.sdk.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *lim.ShardLimit != 5 || *lim.OpenShardCount != 4 || *lim.OnDemandStreamCount != 1 || *lim.OnDemandStreamCountLimit != 1 {
		t.Fatalf("limits %+v", lim)
	}
}

func TestDescribeStreamPaging(t *testing.T) {
	e := newEnv(t)
	e.createStream("paged", 5)
	e.each(t, func(t *testing.T, c testClient) {
		var ids []string
		var start *string
		for {
			d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("paged"), Limit: aws.Int32(2), ExclusiveStartShardId: start})
			if err != nil {
				t.Fatal(err)
			}
			for _, sh := range d.StreamDescription.Shards {
				ids = append(ids, *sh.ShardId)
			}
			if !*d.StreamDescription.HasMoreShards {
				break
			}
			start = d.StreamDescription.Shards[len(d.StreamDescription.Shards)-1].ShardId
		}
		if len(ids) != 5 || ids[4] != "shardId-000000000004" {
			t.Fatalf("paged shards %v", ids)
		}
		d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("paged"), ExclusiveStartShardId: aws.String("shardId-3")})
		if err != nil || len(d.StreamDescription.Shards) != 1 || *d.StreamDescription.Shards[0].ShardId != "shardId-000000000004" {
			t.Fatalf("after short id: %v %+v", err, d)
		}
	})
}

func TestListStreamsPaging(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"s-c", "s-a", "s-e", "s-b", "s-d"} {
		e.createStream(n, 1)
	}
	e.each(t, func(t *testing.T, c testClient) {
		var names []string
		p := kinesis.NewListStreamsPaginator(c.sdk, &kinesis.ListStreamsInput{Limit: aws.Int32(2)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.StreamSummaries) != len(out.StreamNames) {
				t.Fatalf("summaries %d for %d names", len(out.StreamSummaries), len(out.StreamNames))
			}
			for i, s := range out.StreamSummaries {
				if *s.StreamName != out.StreamNames[i] || s.StreamStatus != types.StreamStatusActive || *s.StreamARN == "" ||
					s.StreamModeDetails.StreamMode != types.StreamModeProvisioned || s.StreamCreationTimestamp == nil {
					t.Fatalf("summary %+v", s)
				}
			}
			names = append(names, out.StreamNames...)
		}
		if strings.Join(names, ",") != "s-a,s-b,s-c,s-d,s-e" {
			t.Fatalf("names %v", names)
		}
		out, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("s-b"), Limit: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(out.StreamNames, ",") != "s-c,s-d" || !*out.HasMoreStreams || out.NextToken == nil {
			t.Fatalf("after s-b: %+v", out)
		}
		out, err = c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("s-d")})
		if err != nil || strings.Join(out.StreamNames, ",") != "s-e" || *out.HasMoreStreams || out.NextToken != nil {
			t.Fatalf("after s-d: %v %+v", err, out)
		}
		_, err = c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: aws.String("garbage")})
		wantAPIError(t, err, wire.InvalidArgument, "Invalid NextToken")
	})
}

func TestRetentionPeriod(t *testing.T) {
	e := newEnv(t)
	e.createStream("ret", 1)
	c := e.clients[0]
	name := aws.String("ret")
	hours := func() int32 {
		t.Helper()
		d, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
		if err != nil {
			t.Fatal(err)
		}
		return *d.StreamDescriptionSummary.RetentionPeriodHours
	}
	if _, err := c.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}
	if h := hours(); h != 48 {
		t.Fatalf("after increase: %d h", h)
	}
	_, err := c.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(25)})
	wantAPIError(t, err, wire.InvalidArgument, "Requested retention period (25 hours) for stream ret can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
	_, err = c.sdk.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(49)})
	wantAPIError(t, err, wire.InvalidArgument, "Requested retention period (49 hours) for stream ret can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.")
	_, err = c.sdk.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(23)})
	wantAPIError(t, err, wire.InvalidArgument, "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
	_, err = c.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(8761)})
	wantAPIError(t, err, wire.InvalidArgument, "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.")
	if _, err := c.sdk.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(24)}); err != nil {
		t.Fatal(err)
	}
	if h := hours(); h != 24 {
		t.Fatalf("after decrease: %d h", h)
	}
	_, err = c.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("nope"), RetentionPeriodHours: aws.Int32(48)})
	wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account 000000000000 not found.")
	wantRawError(t, c.call(t, e.addr, "IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "ret"}), wire.Validation,
		"1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null")

	// A local retention floor shortens how long a 24-hour stream keeps
	// records, never the period reported or accepted: AWS reports and
	// accepts 24 to 8760 hours (API reference,
	// DecreaseStreamRetentionPeriod; issue 15 item 9).
	low := newEnvWithStore(t, func(o *shard.Options) { o.RetentionFloor = 90 * time.Minute })
	low.createStream("short", 1)
	lc := low.clients[0]
	d, err := lc.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("short")})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := low.store.Stream("short")
	if h := *d.StreamDescriptionSummary.RetentionPeriodHours; h != 24 || st.Retention() != 90*time.Minute {
		t.Fatalf("under a 90 min floor: reports %d h, keeps records %v; want 24 h and 90m", h, st.Retention())
	}
	_, err = lc.sdk.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("short"), RetentionPeriodHours: aws.Int32(2)})
	wantAPIError(t, err, wire.InvalidArgument, "Minimum allowed retention period is 24 hours. Requested retention period (2 hours) is too short.")
	if _, err := lc.sdk.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("short"), RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}
	if st.Retention() != 48*time.Hour {
		t.Fatalf("at 48 h the stream keeps records %v", st.Retention())
	}
}

func TestStreamStates(t *testing.T) {
	var skew atomic.Int64 // the store's clock offset
	e := newEnvWithStore(t, func(o *shard.Options) {
		o.CreateDelay, o.UpdateDelay, o.DeleteDelay = time.Minute, time.Minute, 200*time.Millisecond
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	c := e.clients[1]
	name := aws.String("slow")
	status := func() types.StreamStatus {
		t.Helper()
		d, err := c.sdk.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
		if err != nil {
			t.Fatal(err)
		}
		if d.StreamDescription.StreamStatus == types.StreamStatusCreating && len(d.StreamDescription.Shards) != 0 {
			t.Fatalf("a CREATING stream lists shards")
		}
		return d.StreamDescription.StreamStatus
	}
	if _, err := c.sdk.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != types.StreamStatusCreating {
		t.Fatalf("status right after create: %s", s)
	}
	inState := "Stream slow under account 000000000000 not ACTIVE, instead in state "
	_, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-0"), NewStartingHashKey: aws.String("10")})
	wantAPIError(t, err, wire.ResourceInUse, inState+"CREATING")
	_, err = c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	wantAPIError(t, err, wire.ResourceInUse, inState+"CREATING")
	sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
	if err != nil || *sum.StreamDescriptionSummary.OpenShardCount != 0 {
		t.Fatalf("summary while CREATING: %v %+v", err, sum)
	}

	skew.Add(int64(2 * time.Minute))
	if s := status(); s != types.StreamStatusActive {
		t.Fatalf("status after CreateDelay: %s", s)
	}
	if _, err := c.sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-0"), NewStartingHashKey: aws.String("10")}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != types.StreamStatusUpdating {
		t.Fatalf("status after split: %s", s)
	}
	_, err = c.sdk.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")})
	wantAPIError(t, err, wire.ResourceInUse, inState+"UPDATING")
	_, err = c.sdk.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
	wantAPIError(t, err, wire.ResourceInUse, inState+"UPDATING")
	skew.Add(int64(2 * time.Minute))
	if s := status(); s != types.StreamStatusActive {
		t.Fatalf("status after UpdateDelay: %s", s)
	}

	if _, err := c.sdk.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name}); err != nil {
		t.Fatal(err)
	}
	out, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || len(out.StreamSummaries) != 1 || out.StreamSummaries[0].StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("listing while DELETING: %v %+v", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.StreamNames) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream still listed after DeleteDelay: %v", out.StreamNames)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
