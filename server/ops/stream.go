package ops

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// streamNeed is what an operation needs of the stream it names.
// lookupStream applies the state rules for each need; they live only here.
//
// A stream's states are CREATING (for the store's CreateDelay), ACTIVE,
// UPDATING (after a reshard or mode change) and DELETING (for the store's
// DeleteDelay after DeleteStream), then gone: after the delay every
// operation answers ResourceNotFoundException. During DELETING (sources:
// the AWS API reference for DeleteStream and DescribeStream, as in
// aws-sdk-go-v2 service/kinesis v1.56):
//
//   - the stream is described, listed and its name is taken (CreateStream
//     gets ResourceInUseException), so the SDKs' StreamNotExists waiter
//     keeps waiting until it is gone;
//   - reads and writes keep working: "Kinesis Data Streams might continue to
//     accept data read and write operations, such as PutRecord, PutRecords,
//     and GetRecords, on a stream in the DELETING state until the stream
//     deletion is complete";
//   - changes (DeleteStream again, tags, policies, consumers, resharding) get
//     ResourceInUseException, AWS's error for "the resource must be in the
//     ACTIVE state";
//   - SubscribeToShard does not start, and running subscriptions end:
//     DeleteStream ends them, and its EnforceConsumerDeletion deletes the
//     consumers they read through.
type streamNeed int

const (
	// needAny: describing, listing, reading tags, GetShardIterator and
	// GetRecords. Any state.
	needAny streamNeed = iota
	// needWrite: PutRecord and PutRecords. ACTIVE, UPDATING or DELETING; a
	// CREATING stream is ResourceNotFoundException, as in AWS.
	needWrite
	// needSubscribe: SubscribeToShard. Any state but DELETING, which is
	// ResourceNotFoundException (the caller names the consumer).
	needSubscribe
	// needChange: DeleteStream, tags, policies, channels and changes that
	// AWS allows outside ACTIVE. Any state but DELETING.
	needChange
	// needActive: resharding, retention, encryption, monitoring, consumer
	// registration. ACTIVE only.
	needActive
)

// lookupStream resolves the stream a request names by StreamName, StreamARN
// or both, and checks that its state allows what the operation needs
// (streamState). Every operation that names a stream calls it, or
// streamState for a stream it already holds. Call it after validation
// (validator.streamName/streamARN), so both are well-formed when present.
// Errors:
//
//   - neither given: InvalidArgumentException;
//   - both given and naming different streams: InvalidArgumentException;
//   - an ARN of another region or account, or no such stream (DELETING and
//     its DeleteDelay over): ResourceNotFoundException "Stream X under
//     account A not found.";
//   - a state that does not allow need: streamState's error.
func (s *Service) lookupStream(name, arn *string, need streamNeed) (*shard.Stream, error) {
	n, err := s.streamNameFor(name, arn)
	if err != nil {
		return nil, err
	}
	st, err := s.store.Stream(n)
	if errors.Is(err, shard.ErrStreamNotFound) {
		return nil, s.streamNotFound(n)
	} else if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", n, err)
	}
	if err := s.streamState(st, need); err != nil {
		return nil, err
	}
	return st, nil
}

// streamState is the state rule of lookupStream (see streamNeed): nil when
// st's current state allows need, else the *APIError AWS answers.
func (s *Service) streamState(st *shard.Stream, need streamNeed) error {
	status := st.Status()
	switch {
	case need == needAny:
		return nil
	case need == needWrite && status == shard.StatusCreating,
		need == needSubscribe && status == shard.StatusDeleting:
		return s.streamNotFound(st.Name())
	case need == needChange && status == shard.StatusDeleting,
		need == needActive && status != shard.StatusActive:
		return s.notActive(st.Name(), status)
	}
	return nil
}

// streamNameFor returns the stream name a request names by StreamName,
// StreamARN or both, with lookupStream's errors but without looking it up.
func (s *Service) streamNameFor(name, arn *string) (string, error) {
	switch {
	case name == nil && arn == nil:
		return "", wire.Errorf(wire.InvalidArgument, "Either StreamName or StreamARN must be provided.")
	case arn == nil:
		return *name, nil
	}
	n, ok := s.store.StreamNameFromARN(*arn)
	if !ok {
		// A well-formed ARN of another account or region: it names no stream here.
		account, rest := "", *arn
		if parts := strings.SplitN(rest, ":", 6); len(parts) == 6 {
			account, rest = parts[4], strings.TrimPrefix(parts[5], "stream/")
		}
		return "", wire.Errorf(wire.ResourceNotFound, "Stream %s under account %s not found.", rest, account)
	}
	if name != nil && *name != n {
		return "", wire.Errorf(wire.InvalidArgument, "StreamARN %s and StreamName %s do not identify the same stream.", *arn, *name)
	}
	return n, nil
}

// streamNotFound is AWS's ResourceNotFoundException for a stream name.
func (s *Service) streamNotFound(name string) *wire.APIError {
	return wire.Errorf(wire.ResourceNotFound, "Stream %s under account %s not found.", name, s.store.Options().AccountID)
}

// shardNotFound is AWS's ResourceNotFoundException for a shard id.
func (s *Service) shardNotFound(stream, shardID string) *wire.APIError {
	return wire.Errorf(wire.ResourceNotFound, "Shard %s in stream %s under account %s does not exist", shardID, stream, s.store.Options().AccountID)
}

// notActive is AWS's ResourceInUseException for a stream that is not ACTIVE.
func (s *Service) notActive(name string, status shard.StreamStatus) *wire.APIError {
	return wire.Errorf(wire.ResourceInUse, "Stream %s under account %s not ACTIVE, instead in state %s", name, s.store.Options().AccountID, status)
}

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
