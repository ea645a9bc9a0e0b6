package ops

import (
	"time"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

type describeLimitsInput struct{}

type describeLimitsOutput struct {
	ShardLimit               int
	OpenShardCount           int
	OnDemandStreamCount      int
	OnDemandStreamCountLimit int
}

// describeLimits answers DescribeLimits: the account's limits from Options
// and the open shards and ON_DEMAND streams counted across the store.
func (s *Service) describeLimits(*describeLimitsInput) (*describeLimitsOutput, error) {
	return &describeLimitsOutput{
		ShardLimit:               s.opts.ShardLimit,
		OpenShardCount:           s.store.OpenShardCount(),
		OnDemandStreamCount:      s.store.OnDemandStreamCount(),
		OnDemandStreamCountLimit: s.opts.OnDemandStreamLimit,
	}, nil
}

type describeAccountSettingsInput struct{}

// commitmentOutput is the MinimumThroughputBillingCommitmentOutput of
// responses.
type commitmentOutput struct {
	Status               string
	StartedAt            *wire.EpochTime `json:",omitempty"`
	EndedAt              *wire.EpochTime `json:",omitempty"`
	EarliestAllowedEndAt *wire.EpochTime `json:",omitempty"`
}

type accountSettingsOutput struct {
	MinimumThroughputBillingCommitment commitmentOutput
}

// describeAccountSettings answers DescribeAccountSettings: the account's
// minimum throughput billing commitment, DISABLED if it was never enabled.
func (s *Service) describeAccountSettings(*describeAccountSettingsInput) (*accountSettingsOutput, error) {
	return accountSettings(s.commitment()), nil
}

// accountSettings is the response of Describe and UpdateAccountSettings.
func accountSettings(a shard.AccountSettings) *accountSettingsOutput {
	at := func(ms int64) *wire.EpochTime {
		if ms == 0 {
			return nil
		}
		return &wire.EpochTime{Time: time.UnixMilli(ms)}
	}
	return &accountSettingsOutput{MinimumThroughputBillingCommitment: commitmentOutput{
		Status:               a.CommitmentStatus,
		StartedAt:            at(a.CommitmentStartedMs),
		EndedAt:              at(a.CommitmentEndedMs),
		EarliestAllowedEndAt: at(a.EarliestEndMs),
	}}
}

type commitmentInput struct {
	Status *string
}

type updateAccountSettingsInput struct {
	MinimumThroughputBillingCommitment *commitmentInput
}

// updateAccountSettings answers UpdateAccountSettings: it enables or
// disables the account's minimum throughput billing commitment and returns
// the settings in force afterwards. A commitment lasts at least
// commitmentTerm (24 h): disabling it earlier schedules its end at the
// earliest allowed end (ENABLED_UNTIL_EARLIEST_ALLOWED_END), and enabling it
// again before then cancels that. Asking for the status already in force
// changes nothing.
func (s *Service) updateAccountSettings(in *updateAccountSettingsInput) (*accountSettingsOutput, error) {
	var v wire.Validator
	c := in.MinimumThroughputBillingCommitment
	v.NotNull("minimumThroughputBillingCommitment", c != nil)
	if c != nil {
		v.NotNull("minimumThroughputBillingCommitment.status", c.Status != nil)
		v.Enum("minimumThroughputBillingCommitment.status", c.Status, commitmentEnabled, commitmentDisabled)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	a := s.commitment()
	now := s.opts.Now().UnixMilli()
	switch {
	case *c.Status == commitmentEnabled && a.CommitmentStatus == commitmentDisabled:
		a.CommitmentStatus, a.CommitmentStartedMs, a.CommitmentEndedMs = commitmentEnabled, now, 0
		a.EarliestEndMs = now + commitmentTerm.Milliseconds()
	case *c.Status == commitmentEnabled && a.CommitmentStatus == commitmentEndingAtTerm:
		a.CommitmentStatus = commitmentEnabled
	case *c.Status == commitmentDisabled && a.CommitmentStatus == commitmentEnabled && now < a.EarliestEndMs:
		a.CommitmentStatus = commitmentEndingAtTerm
	case *c.Status == commitmentDisabled && a.CommitmentStatus == commitmentEnabled:
		a.CommitmentStatus, a.CommitmentEndedMs = commitmentDisabled, now
	default:
		return accountSettings(a), nil
	}
	if err := s.store.SetAccountSettings(a); err != nil {
		return nil, err
	}
	return accountSettings(a), nil
}
