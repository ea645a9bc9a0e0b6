package ops

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
