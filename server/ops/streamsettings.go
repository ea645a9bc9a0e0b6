package ops

import (
	"math"
	"slices"
	"time"

	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// metricsEnum is the values a ShardLevelMetrics element may take.
var metricsEnum = append(slices.Clone(metrics.ShardLevel), metrics.All)

// Encryption types.
const (
	encryptionNone = "NONE"
	encryptionKMS  = "KMS"
)

// maxWarmThroughputMiBps is the default ceiling of an on-demand stream's
// warm throughput (10 GiB/s); more is LimitExceededException.
const maxWarmThroughputMiBps = 10 << 10

// Minimum throughput billing commitment statuses.
const (
	commitmentEnabled      = "ENABLED"
	commitmentDisabled     = "DISABLED"
	commitmentEndingAtTerm = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
)

// commitmentTerm is how long a minimum throughput billing commitment must
// last before it can end.
const commitmentTerm = 24 * time.Hour

// commitment returns the account's minimum throughput billing commitment as
// of now: a commitment whose disabling was scheduled ends at its earliest
// allowed end, and one never set is DISABLED.
func (s *Service) commitment() shard.AccountSettings {
	a := s.store.AccountSettings()
	switch {
	case a.CommitmentStatus == "":
		a.CommitmentStatus = commitmentDisabled
	case a.CommitmentStatus == commitmentEndingAtTerm && s.opts.Now().UnixMilli() >= a.EarliestEndMs:
		a.CommitmentStatus, a.CommitmentEndedMs = commitmentDisabled, a.EarliestEndMs
	}
	return a
}

// commitmentActive reports whether the account may use warm throughput:
// its commitment is in force, even if scheduled to end.
func (s *Service) commitmentActive() bool {
	return s.commitment().CommitmentStatus != commitmentDisabled
}

// errNoCommitment answers a warm throughput request from an account
// without a minimum throughput billing commitment.
var errNoCommitment = wire.Errorf(wire.InvalidArgument, "Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED (see UpdateAccountSettings).")

// checkWarmThroughput applies the rules of a warm throughput request for a
// stream that is, or is becoming, mode.
func (s *Service) checkWarmThroughput(name string, mode shard.StreamMode, mibps int) error {
	if mode != shard.ModeOnDemand {
		return wire.Errorf(wire.InvalidArgument, "Warm throughput is only supported for ON_DEMAND streams; stream %s under account %s is %s.", name, s.store.Options().AccountID, mode)
	}
	if !s.commitmentActive() {
		return errNoCommitment
	}
	if mibps > maxWarmThroughputMiBps {
		return wire.Errorf(wire.LimitExceeded, "Warm throughput of %d MiBps exceeds the limit of %d MiBps for an on-demand stream.", mibps, maxWarmThroughputMiBps)
	}
	return nil
}

// expandMetrics returns the metrics a ShardLevelMetrics list names, "ALL"
// expanded, as a membership test.
func expandMetrics(list []string) func(string) bool {
	if slices.Contains(list, metrics.All) {
		return func(string) bool { return true }
	}
	return func(m string) bool { return slices.Contains(list, m) }
}

// maxRetentionHours is the longest retention period Kinesis allows.
const maxRetentionHours = int(shard.MaxRetention / time.Hour)

type streamRetentionInput struct {
	StreamName           *string
	StreamARN            *string
	RetentionPeriodHours *int
}

// increaseStreamRetentionPeriod answers IncreaseStreamRetentionPeriod.
func (s *Service) increaseStreamRetentionPeriod(in *streamRetentionInput) (*emptyOutput, error) {
	return s.setRetention(in, true)
}

// setRetention is Increase- (increase true) and
// DecreaseStreamRetentionPeriod: the new period must lie between 24 h and
// 8760 h, as in AWS (a local retention floor shortens how long a 24-hour
// stream keeps records, never the period reported), and must not go the
// other way than the operation's name says; the same period is accepted.
func (s *Service) setRetention(in *streamRetentionInput, increase bool) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	hours := *in.RetentionPeriodHours
	const minHours = int(shard.DefaultRetention / time.Hour)
	switch current := st.Info().RetentionHours; {
	case hours < minHours:
		return nil, wire.Errorf(wire.InvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minHours, hours)
	case hours > maxRetentionHours:
		return nil, wire.Errorf(wire.InvalidArgument, "Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", maxRetentionHours, hours)
	case increase && hours < current:
		return nil, wire.Errorf(wire.InvalidArgument, "Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, st.Name(), current)
	case !increase && hours > current:
		return nil, wire.Errorf(wire.InvalidArgument, "Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, st.Name(), current)
	}
	if err := st.SetRetentionHours(hours); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// decreaseStreamRetentionPeriod answers DecreaseStreamRetentionPeriod; see
// setRetention.
func (s *Service) decreaseStreamRetentionPeriod(in *streamRetentionInput) (*emptyOutput, error) {
	return s.setRetention(in, false)
}

type updateStreamModeInput struct {
	StreamARN           *string
	StreamModeDetails   *streamModeDetailsInput
	WarmThroughputMiBps *int
}

// updateStreamMode answers UpdateStreamMode: it switches an ACTIVE stream,
// named by StreamARN only, between PROVISIONED and ON_DEMAND and turns it
// UPDATING for the store's UpdateDelay. Switching to the mode the stream is
// already in is InvalidArgumentException; so is WarmThroughputMiBps unless
// the new mode is ON_DEMAND and the account has a minimum throughput billing
// commitment. Going ON_DEMAND past Options.OnDemandStreamLimit streams is
// LimitExceededException. A stream leaving ON_DEMAND drops its warm
// throughput.
func (s *Service) updateStreamMode(in *updateStreamModeInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("streamModeDetails", in.StreamModeDetails != nil)
	if d := in.StreamModeDetails; d != nil {
		v.NotNull("streamModeDetails.streamMode", d.StreamMode != nil)
		v.Enum("streamModeDetails.streamMode", d.StreamMode, string(shard.ModeProvisioned), string(shard.ModeOnDemand))
	}
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, math.MaxInt32)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	mode := shard.StreamMode(*in.StreamModeDetails.StreamMode)
	info := st.Info()
	if info.Mode == mode {
		return nil, wire.Errorf(wire.InvalidArgument, "Stream %s under account %s is already in %s mode.", st.Name(), s.store.Options().AccountID, mode)
	}
	if in.WarmThroughputMiBps != nil {
		if err := s.checkWarmThroughput(st.Name(), mode, *in.WarmThroughputMiBps); err != nil {
			return nil, err
		}
	}
	if err := st.SetMode(mode); err != nil { // checks the on-demand stream limit
		return nil, s.accountLimitError(err, st.Name())
	}
	warm := 0
	if in.WarmThroughputMiBps != nil {
		warm = *in.WarmThroughputMiBps
	}
	if warm != info.WarmThroughputMiBps {
		if err := st.SetWarmThroughput(warm); err != nil {
			return nil, err
		}
	}
	return &emptyOutput{}, nil
}

// Bounds of MaxRecordSizeInKiB: 1 MiB to 10 MiB.
const (
	minMaxRecordSizeKiB = 1024
	maxMaxRecordSizeKiB = 10240
)

type updateMaxRecordSizeInput struct {
	StreamARN          *string
	MaxRecordSizeInKiB *int
}

// updateMaxRecordSize answers UpdateMaxRecordSize: the largest record an
// ACTIVE stream, named by StreamARN, accepts and returns, between 1024 and
// 10240 KiB (ValidationException outside). It takes effect for the next
// PutRecord(s) call.
func (s *Service) updateMaxRecordSize(in *updateMaxRecordSizeInput) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil)
	v.IntRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, minMaxRecordSizeKiB, maxMaxRecordSizeKiB)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.StreamARN == nil {
		return nil, wire.Errorf(wire.InvalidArgument, "StreamARN must be provided.")
	}
	st, err := s.lookupStream(nil, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	if err := st.SetMaxRecordSize(*in.MaxRecordSizeInKiB); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type updateStreamRecordDistributionStrategyInput struct {
	StreamARN                  *string
	RecordDistributionStrategy *string
}

// updateStreamRecordDistributionStrategy answers
// UpdateStreamRecordDistributionStrategy: how PutRecord(s) place the records
// of a stream named by StreamARN, by partition key (USER_PARTITION_KEY, the
// default) or spread evenly over the open shards (AUTO). AUTO needs an
// ON_DEMAND stream (InvalidArgumentException otherwise). The change applies
// to the next record; records already stored stay where they are.
func (s *Service) updateStreamRecordDistributionStrategy(in *updateStreamRecordDistributionStrategyInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("streamARN", in.StreamARN != nil)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("recordDistributionStrategy", in.RecordDistributionStrategy != nil)
	v.Enum("recordDistributionStrategy", in.RecordDistributionStrategy, shard.DistributionAuto, shard.DistributionUserPartitionKey)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(nil, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	strategy := *in.RecordDistributionStrategy
	if mode := st.Info().Mode; strategy == shard.DistributionAuto && mode != shard.ModeOnDemand {
		return nil, wire.Errorf(wire.InvalidArgument, "The AUTO record distribution strategy is only supported for ON_DEMAND streams; stream %s under account %s is %s.",
			st.Name(), s.store.Options().AccountID, mode)
	}
	if err := st.SetRecordDistribution(strategy); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type updateStreamWarmThroughputInput struct {
	StreamName          *string
	StreamARN           *string
	WarmThroughputMiBps *int
}

type updateStreamWarmThroughputOutput struct {
	StreamName     string
	StreamARN      string
	WarmThroughput warmThroughput
}

// updateStreamWarmThroughput answers UpdateStreamWarmThroughput: the warm
// throughput of an ACTIVE ON_DEMAND stream of an account with a minimum
// throughput billing commitment (InvalidArgumentException otherwise), at
// most 10 GiB/s (LimitExceededException). As AWS does while it scales, the
// response reports the value before the call as CurrentMiBps and the new one
// as TargetMiBps; shardlog has nothing to scale, so the new value is in force
// at once.
func (s *Service) updateStreamWarmThroughput(in *updateStreamWarmThroughputInput) (*updateStreamWarmThroughputOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	v.NotNull("warmThroughputMiBps", in.WarmThroughputMiBps != nil)
	v.IntRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, math.MaxInt32)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	target := *in.WarmThroughputMiBps
	if err := s.checkWarmThroughput(st.Name(), info.Mode, target); err != nil {
		return nil, err
	}
	if err := st.SetWarmThroughput(target); err != nil {
		return nil, err
	}
	return &updateStreamWarmThroughputOutput{
		StreamName:     st.Name(),
		StreamARN:      st.ARN(),
		WarmThroughput: warmThroughput{TargetMiBps: target, CurrentMiBps: info.WarmThroughputMiBps},
	}, nil
}

type streamEncryptionInput struct {
	StreamName     *string
	EncryptionType *string
	KeyId          *string
	StreamARN      *string
}

// streamEncryption answers StartStreamEncryption (start) and
// StopStreamEncryption. The stream must be ACTIVE; it turns UPDATING for the
// store's UpdateDelay. EncryptionType must be KMS. There is no KMS here:
// records are stored as they are and any KeyId is accepted; the type and key
// are recorded and reported back by DescribeStream(Summary) and in
// PutRecord(s) responses (EncryptionType), as AWS reports them.
func (s *Service) streamEncryption(in *streamEncryptionInput, start bool) (*emptyOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.NotNull("encryptionType", in.EncryptionType != nil)
	v.Enum("encryptionType", in.EncryptionType, encryptionNone, encryptionKMS)
	v.NotNull("keyId", in.KeyId != nil)
	v.Str("keyId", in.KeyId, 1, 2048, nil)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if *in.EncryptionType != encryptionKMS {
		return nil, wire.Errorf(wire.InvalidArgument, "Encryption type %s is not supported; the only valid value is KMS.", *in.EncryptionType)
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	if start {
		err = st.SetEncryption(encryptionKMS, *in.KeyId)
	} else {
		err = st.SetEncryption(encryptionNone, "")
	}
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// startStreamEncryption answers StartStreamEncryption.
func (s *Service) startStreamEncryption(in *streamEncryptionInput) (*emptyOutput, error) {
	return s.streamEncryption(in, true)
}

// stopStreamEncryption answers StopStreamEncryption.
func (s *Service) stopStreamEncryption(in *streamEncryptionInput) (*emptyOutput, error) {
	return s.streamEncryption(in, false)
}
