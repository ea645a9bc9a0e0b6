package ops

import (
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

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
