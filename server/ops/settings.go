package ops

import (
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
