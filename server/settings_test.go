package server

import (
	"slices"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

// wantValidation sends a raw request (the SDK refuses to send one missing a
// required member) and checks AWS's ValidationException wording exactly.
func wantValidation(t *testing.T, e *testEnv, c testClient, op, body, want string) {
	t.Helper()
	r := c.call(t, e.addr, op, body)
	if r.status != 400 || r.body["__type"] != wire.Validation || r.body["message"] != want {
		t.Errorf("%s %s: got %d %v, want ValidationException %q", op, body, r.status, r.body, want)
	}
}

func metricNames(m []types.MetricsName) []string {
	out := make([]string, len(m))
	for i, n := range m {
		out[i] = string(n)
	}
	return out
}

func TestEnhancedMonitoring(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "mon-" + c.name
		st := e.createStream(name, 1)
		out, err := c.sdk.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(name),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameOutgoingBytes, types.MetricsNameIncomingBytes}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.CurrentShardLevelMetrics) != 0 || !slices.Equal(metricNames(out.DesiredShardLevelMetrics), []string{"IncomingBytes", "OutgoingBytes"}) ||
			*out.StreamName != name || *out.StreamARN != st.ARN() {
			t.Fatalf("enable: %+v", out)
		}
		out, err = c.sdk.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamARN: aws.String(st.ARN()),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.CurrentShardLevelMetrics) != 2 || !slices.Equal(metricNames(out.DesiredShardLevelMetrics), metrics.ShardLevel) {
			t.Fatalf("enable ALL: %+v", out)
		}
		dis, err := c.sdk.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String(name),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameIteratorAgeMilliseconds}})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}
		if !slices.Equal(metricNames(dis.DesiredShardLevelMetrics), want) || len(dis.CurrentShardLevelMetrics) != 7 {
			t.Fatalf("disable: %+v", dis)
		}
		if got := st.Info().EnhancedMetrics; !slices.Equal(got, want) {
			t.Fatalf("stored %v, want %v", got, want)
		}
		dis, err = c.sdk.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String(name),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
		if err != nil || len(dis.DesiredShardLevelMetrics) != 0 || len(st.Info().EnhancedMetrics) != 0 {
			t.Fatalf("disable ALL: %+v %v", dis, err)
		}

		wantValidation(t, e, c, "EnableEnhancedMonitoring", `{"StreamName":"`+name+`","ShardLevelMetrics":["IncomingBytes","Bogus"]}`,
			"1 validation error detected: Value '[IncomingBytes, Bogus]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: "+
				"[Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]")
		wantValidation(t, e, c, "DisableEnhancedMonitoring", `{"StreamName":"`+name+`"}`,
			"1 validation error detected: Value null at 'shardLevelMetrics' failed to satisfy constraint: Member must not be null")
		_, err = c.sdk.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("nope"),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account 000000000000 not found.")
		_, err = c.sdk.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
		wantAPIError(t, err, wire.InvalidArgument, "Either StreamName or StreamARN must be provided.")
	})
}

func TestStreamEncryption(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "enc-" + c.name
		st := e.createStream(name, 1)
		const key = "alias/aws/kinesis"
		_, err := c.sdk.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String(name),
			EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if info := st.Info(); info.EncryptionType != "KMS" || info.KeyID != key {
			t.Fatalf("after start: %s %q", info.EncryptionType, info.KeyID)
		}
		sum, err := c.sdk.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if d := sum.StreamDescriptionSummary; d.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.KeyId) != key {
			t.Fatalf("DescribeStreamSummary reports %s %q", d.EncryptionType, aws.ToString(d.KeyId))
		}
		put, err := c.sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
		if err != nil || put.EncryptionType != types.EncryptionTypeKms {
			t.Fatalf("PutRecord on an encrypted stream: %+v %v", put, err)
		}
		_, err = c.sdk.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamARN: aws.String(st.ARN()),
			EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if info := st.Info(); info.EncryptionType != "NONE" || info.KeyID != "" {
			t.Fatalf("after stop: %s %q", info.EncryptionType, info.KeyID)
		}

		_, err = c.sdk.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String(name),
			EncryptionType: types.EncryptionTypeNone, KeyId: aws.String(key)})
		wantAPIError(t, err, wire.InvalidArgument, "Encryption type NONE is not supported")
		wantValidation(t, e, c, "StartStreamEncryption", `{"StreamName":"`+name+`","EncryptionType":"AES"}`,
			"2 validation errors detected: Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, KMS]; "+
				"Value null at 'keyId' failed to satisfy constraint: Member must not be null")
		_, err = c.sdk.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("nope"),
			EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key)})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account")
	})
}

func TestResourcePolicy(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		st := e.createStream("pol-"+c.name, 1)
		arn := aws.String(st.ARN())
		got, err := c.sdk.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: arn})
		if err != nil || *got.Policy != "{}" {
			t.Fatalf("policy of a fresh stream: %v %v", got, err)
		}
		const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}`
		if _, err := c.sdk.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		got, err = c.sdk.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: arn})
		if err != nil || *got.Policy != policy || st.ResourcePolicy() != policy {
			t.Fatalf("policy after put: %v %v", got, err)
		}
		_, err = c.sdk.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(`["not", "an object"]`)})
		wantAPIError(t, err, wire.InvalidArgument, "Policy is not a valid JSON policy document.")
		if _, err := c.sdk.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: arn}); err != nil {
			t.Fatal(err)
		}
		_, err = c.sdk.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: arn})
		wantAPIError(t, err, wire.ResourceNotFound, "No resource policy found for resource "+st.ARN())
		consumer := st.ARN() + "/consumer/app:1"
		_, err = c.sdk.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(consumer)})
		wantAPIError(t, err, wire.ResourceNotFound, "Consumer "+consumer)
		wantValidation(t, e, c, "PutResourcePolicy", `{"ResourceARN":"`+st.ARN()+`"}`,
			"1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	})
}

func TestUpdateStreamMode(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.OnDemandStreamLimit = 2 })
	e.each(t, func(t *testing.T, c testClient) {
		st := e.createStream("mode-"+c.name, 1)
		arn := aws.String(st.ARN())
		on := &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
		if _, err := c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: on}); err != nil {
			t.Fatal(err)
		}
		if m := st.Info().Mode; m != shard.ModeOnDemand {
			t.Fatalf("mode %s", m)
		}
		_, err := c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: on})
		wantAPIError(t, err, wire.InvalidArgument, "Stream mode-"+c.name+" under account 000000000000 is already in ON_DEMAND mode.")
		_, err = c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}, WarmThroughputMiBps: aws.Int32(10)})
		wantAPIError(t, err, wire.InvalidArgument, "Warm throughput is only supported for ON_DEMAND streams")
		if _, err := c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}); err != nil {
			t.Fatal(err)
		}
		wantValidation(t, e, c, "UpdateStreamMode", `{"StreamModeDetails":{}}`,
			"2 validation errors detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null; "+
				"Value null at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must not be null")
		_, err = c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/nope"), StreamModeDetails: on})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account 000000000000 not found.")
	})
	// The account may hold two ON_DEMAND streams.
	c := e.clients[0]
	for _, name := range []string{"od1", "od2", "od3"} {
		st := e.createStream(name, 1)
		_, err := c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(st.ARN()),
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
		if name != "od3" && err != nil {
			t.Fatal(err)
		}
		if name == "od3" {
			wantAPIError(t, err, wire.LimitExceeded, "This request would exceed the on-demand stream count limit")
		}
	}
}

func TestUpdateMaxRecordSize(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		st := e.createStream("size-"+c.name, 1)
		if _, err := c.sdk.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(st.ARN()), MaxRecordSizeInKiB: aws.Int32(2048)}); err != nil {
			t.Fatal(err)
		}
		if n := st.Info().MaxRecordSizeKiB; n != 2048 {
			t.Fatalf("max record size %d KiB", n)
		}
		_, err := c.sdk.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(st.ARN()), MaxRecordSizeInKiB: aws.Int32(10241)})
		wantAPIError(t, err, wire.Validation, "1 validation error detected: Value '10241' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value less than or equal to 10240")
		_, err = c.sdk.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{MaxRecordSizeInKiB: aws.Int32(1024)})
		wantAPIError(t, err, wire.InvalidArgument, "StreamARN must be provided.")
		_, err = c.sdk.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(st.ARN() + "x"), MaxRecordSizeInKiB: aws.Int32(1024)})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream size-"+c.name+"x under account")
	})
}

func TestWarmThroughputAndDistribution(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		od, err := e.store.CreateStream(shard.StreamConfig{Name: "warm-" + c.name, ShardCount: 2, Mode: shard.ModeOnDemand})
		if err != nil {
			t.Fatal(err)
		}
		prov := e.createStream("prov-"+c.name, 1)
		warm := func(st *shard.Stream, mibps int32) (*kinesis.UpdateStreamWarmThroughputOutput, error) {
			return c.sdk.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(st.Name()), WarmThroughputMiBps: aws.Int32(mibps)})
		}
		if _, err := warm(od, 100); c.name == e.clients[0].name {
			wantAPIError(t, err, wire.InvalidArgument, "Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED")
			if _, err := c.sdk.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
				MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := warm(od, 100)
		if err != nil {
			t.Fatal(err)
		}
		out, err = warm(od, 200)
		if err != nil {
			t.Fatal(err)
		}
		if w := out.WarmThroughput; *w.CurrentMiBps != 100 || *w.TargetMiBps != 200 || *out.StreamARN != od.ARN() || *out.StreamName != od.Name() {
			t.Fatalf("warm throughput response %+v %+v", out, *w)
		}
		if n := od.WarmThroughput(); n != 200 {
			t.Fatalf("stored warm throughput %d", n)
		}
		_, err = warm(prov, 100)
		wantAPIError(t, err, wire.InvalidArgument, "Warm throughput is only supported for ON_DEMAND streams")
		_, err = warm(od, 10241)
		wantAPIError(t, err, wire.LimitExceeded, "Warm throughput of 10241 MiBps exceeds the limit")
		wantValidation(t, e, c, "UpdateStreamWarmThroughput", `{"StreamName":"`+od.Name()+`","WarmThroughputMiBps":-1}`,
			"1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0")

		dist := func(st *shard.Stream, s types.RecordDistributionStrategy) error {
			_, err := c.sdk.UpdateStreamRecordDistributionStrategy(ctx, &kinesis.UpdateStreamRecordDistributionStrategyInput{
				StreamARN: aws.String(st.ARN()), RecordDistributionStrategy: s})
			return err
		}
		if err := dist(od, types.RecordDistributionStrategyAuto); err != nil {
			t.Fatal(err)
		}
		if d := od.Info().Distribution; d != shard.DistributionAuto {
			t.Fatalf("distribution %s", d)
		}
		if err := dist(od, types.RecordDistributionStrategyUserPartitionKey); err != nil || od.Info().Distribution != shard.DistributionUserPartitionKey {
			t.Fatalf("back to USER_PARTITION_KEY: %v %s", err, od.Info().Distribution)
		}
		wantAPIError(t, dist(prov, types.RecordDistributionStrategyAuto), wire.InvalidArgument, "The AUTO record distribution strategy is only supported for ON_DEMAND streams")
		wantValidation(t, e, c, "UpdateStreamRecordDistributionStrategy", `{"StreamARN":"`+od.ARN()+`","RecordDistributionStrategy":"RANDOM"}`,
			"1 validation error detected: Value 'RANDOM' at 'recordDistributionStrategy' failed to satisfy constraint: Member must satisfy enum value set: [AUTO, USER_PARTITION_KEY]")
	})
}

func TestAccountSettings(t *testing.T) {
	for i := range 2 {
		e := newEnv(t)
		c := e.clients[i]
		t.Run(c.name, func(t *testing.T) {
			d, err := c.sdk.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
			if err != nil || d.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
				t.Fatalf("fresh account: %+v %v", d, err)
			}
			update := func(s types.MinimumThroughputBillingCommitmentInputStatus) *types.MinimumThroughputBillingCommitmentOutput {
				t.Helper()
				out, err := c.sdk.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
					MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: s}})
				if err != nil {
					t.Fatal(err)
				}
				return out.MinimumThroughputBillingCommitment
			}
			on := update(types.MinimumThroughputBillingCommitmentInputStatusEnabled)
			if on.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || on.StartedAt == nil ||
				on.EarliestAllowedEndAt.Sub(*on.StartedAt) != 24*time.Hour || on.EndedAt != nil {
				t.Fatalf("enabled: %+v", on)
			}
			// Disabling within the term schedules the end; enabling cancels it.
			if off := update(types.MinimumThroughputBillingCommitmentInputStatusDisabled); off.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabledUntilEarliestAllowedEnd {
				t.Fatalf("disable within the term: %+v", off)
			}
			if again := update(types.MinimumThroughputBillingCommitmentInputStatusEnabled); again.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || !again.StartedAt.Equal(*on.StartedAt) {
				t.Fatalf("re-enable within the term: %+v", again)
			}
			update(types.MinimumThroughputBillingCommitmentInputStatusDisabled)
			// Past the term the scheduled end has happened.
			e.skew.Store(int64(25 * time.Hour))
			d, err = c.sdk.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if m := d.MinimumThroughputBillingCommitment; m.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled || !m.EndedAt.Equal(*on.EarliestAllowedEndAt) {
				t.Fatalf("after the term: %+v", m)
			}
			wantValidation(t, e, c, "UpdateAccountSettings", `{}`,
				"1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null")
			wantValidation(t, e, c, "UpdateAccountSettings", `{"MinimumThroughputBillingCommitment":{"Status":"ENABLED_UNTIL_EARLIEST_ALLOWED_END"}}`,
				"1 validation error detected: Value 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]")
		})
	}
}

// TestSettingsRefuseAStreamNotActive: the settings operations that need an
// ACTIVE stream answer ResourceInUseException while it is UPDATING.
func TestSettingsRefuseAStreamNotActive(t *testing.T) {
	e := newEnvWithStore(t, func(o *shard.Options) { o.UpdateDelay = time.Minute })
	c := e.clients[0]
	st := e.createStream("busy", 2)
	arn := aws.String(st.ARN())
	if _, err := c.sdk.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamARN: arn, EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/k")}); err != nil {
		t.Fatal(err) // ACTIVE: accepted, and now UPDATING for a minute
	}
	const msg = "Stream busy under account 000000000000 not ACTIVE, instead in state UPDATING"
	_, err := c.sdk.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{
		StreamARN: arn, EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/k")})
	wantAPIError(t, err, wire.ResourceInUse, msg)
	_, err = c.sdk.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{
		StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantAPIError(t, err, wire.ResourceInUse, msg)
	_, err = c.sdk.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamARN: arn, ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
	wantAPIError(t, err, wire.ResourceInUse, msg)
	_, err = c.sdk.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: aws.Int32(2048)})
	wantAPIError(t, err, wire.ResourceInUse, msg)
}
