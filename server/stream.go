package server

import (
	"errors"
	"strings"

	"github.com/shardlog/shardlog/shard"
)

// streamFor resolves the stream a request names by StreamName, StreamARN or
// both. Call it after validation (validator.streamName/streamARN), so both
// are well-formed when present. Errors:
//
//   - neither given: InvalidArgumentException;
//   - both given and naming different streams: InvalidArgumentException;
//   - an ARN of another region or account, or no such stream (or one being
//     deleted): ResourceNotFoundException "Stream X under account A not found.".
func (s *Server) streamFor(name, arn *string) (*shard.Stream, error) {
	n, err := s.streamNameFor(name, arn)
	if err != nil {
		return nil, err
	}
	st, err := s.store.Stream(n)
	if errors.Is(err, shard.ErrStreamNotFound) || err == nil && st.Status() == shard.StatusDeleting {
		return nil, s.streamNotFound(n)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// streamNameFor returns the stream name a request names by StreamName,
// StreamARN or both, with streamFor's errors but without looking it up.
func (s *Server) streamNameFor(name, arn *string) (string, error) {
	switch {
	case name == nil && arn == nil:
		return "", apiErrorf(errInvalidArgument, "Either StreamName or StreamARN must be provided.")
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
		return "", apiErrorf(errResourceNotFound, "Stream %s under account %s not found.", rest, account)
	}
	if name != nil && *name != n {
		return "", apiErrorf(errInvalidArgument, "StreamARN %s and StreamName %s do not identify the same stream.", *arn, *name)
	}
	return n, nil
}

// streamNotFound is AWS's ResourceNotFoundException for a stream name.
func (s *Server) streamNotFound(name string) *APIError {
	return apiErrorf(errResourceNotFound, "Stream %s under account %s not found.", name, s.store.Options().AccountID)
}

// shardNotFound is AWS's ResourceNotFoundException for a shard id.
func (s *Server) shardNotFound(stream, shardID string) *APIError {
	return apiErrorf(errResourceNotFound, "Shard %s in stream %s under account %s does not exist", shardID, stream, s.store.Options().AccountID)
}

// activeStream is streamFor for operations that need an ACTIVE stream
// (resharding, retention changes): a stream that is CREATING or UPDATING
// gets notActive's ResourceInUseException.
func (s *Server) activeStream(name, arn *string) (*shard.Stream, error) {
	st, err := s.streamFor(name, arn)
	if err != nil {
		return nil, err
	}
	if status := st.Status(); status != shard.StatusActive {
		return nil, s.notActive(st.Name(), status)
	}
	return st, nil
}

// notActive is AWS's ResourceInUseException for a stream that is not ACTIVE.
func (s *Server) notActive(name string, status shard.StreamStatus) *APIError {
	return apiErrorf(errResourceInUse, "Stream %s under account %s not ACTIVE, instead in state %s", name, s.store.Options().AccountID, status)
}
