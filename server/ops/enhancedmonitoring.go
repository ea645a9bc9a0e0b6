package ops

import (
	"slices"

	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/wire"
)

type enhancedMonitoringInput struct {
	StreamName        *string
	ShardLevelMetrics []string
	StreamARN         *string
}

// enhancedMonitoringOutput is the response of both Enable and
// DisableEnhancedMonitoring.
type enhancedMonitoringOutput struct {
	StreamName               string
	StreamARN                string
	CurrentShardLevelMetrics []string
	DesiredShardLevelMetrics []string
}

// enhancedMonitoring answers EnableEnhancedMonitoring (enable) and
// DisableEnhancedMonitoring: it adds the named shard-level metrics to the
// stream's enabled set, or removes them, and reports the set before
// (Current) and after (Desired), in the service model's order. The stream
// must be ACTIVE. shardlog publishes no CloudWatch metrics; the set is
// stored and reported back by DescribeStream.
func (s *Service) enhancedMonitoring(in *enhancedMonitoringInput, enable bool) (*enhancedMonitoringOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.NotNull("shardLevelMetrics", in.ShardLevelMetrics != nil)
	v.ListLen("shardLevelMetrics", len(in.ShardLevelMetrics), in.ShardLevelMetrics != nil, 1, len(metrics.ShardLevel),
		func() string { return wire.ShowList(in.ShardLevelMetrics) })
	v.MembersEnum("shardLevelMetrics", in.ShardLevelMetrics, metricsEnum...)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needActive)
	if err != nil {
		return nil, err
	}
	named := expandMetrics(in.ShardLevelMetrics)
	enabled := st.Info().EnhancedMetrics
	desired := make([]string, 0, len(metrics.ShardLevel))
	for _, m := range metrics.ShardLevel {
		was := slices.Contains(enabled, m)
		if enable && (was || named(m)) || !enable && was && !named(m) {
			desired = append(desired, m)
		}
	}
	before, after, err := st.SetEnhancedMetrics(desired)
	if err != nil {
		return nil, err
	}
	s.metrics.SetEnhanced(st, after)
	return &enhancedMonitoringOutput{
		StreamName:               st.Name(),
		StreamARN:                st.ARN(),
		CurrentShardLevelMetrics: nonNil(before),
		DesiredShardLevelMetrics: nonNil(after),
	}, nil
}

// nonNil returns list, or an empty list for nil, so that it encodes as [].
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// enableEnhancedMonitoring answers EnableEnhancedMonitoring.
func (s *Service) enableEnhancedMonitoring(in *enhancedMonitoringInput) (*enhancedMonitoringOutput, error) {
	return s.enhancedMonitoring(in, true)
}

// disableEnhancedMonitoring answers DisableEnhancedMonitoring.
func (s *Service) disableEnhancedMonitoring(in *enhancedMonitoringInput) (*enhancedMonitoringOutput, error) {
	return s.enhancedMonitoring(in, false)
}
