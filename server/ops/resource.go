package ops

import (
	"regexp"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// Patterns of the ResourceARN member (TagResource, PutResourcePolicy, ...):
// any Kinesis resource ARN, of which a registered consumer's is the one that
// is not a stream's.
var (
	consumerARNPattern = regexp.MustCompile(`^arn:aws.*:kinesis:.*:\d{12}:.*stream/[a-zA-Z0-9_.-]+/consumer/[a-zA-Z0-9_.-]+:[0-9]+$`)
)

// resourceStream resolves the stream a ResourceARN names. Call it after
// validation (validator.resourceARN). shardlog has no registered consumers
// yet, so a consumer ARN names nothing: ResourceNotFoundException. A stream
// ARN resolves as lookupStream does, with need.
func (s *Service) resourceStream(arn string, need streamNeed) (*shard.Stream, error) {
	if consumerARNPattern.MatchString(arn) {
		return nil, wire.Errorf(wire.ResourceNotFound, "Consumer %s under account %s not found.", arn, s.store.Options().AccountID)
	}
	return s.lookupStream(nil, &arn, need)
}
