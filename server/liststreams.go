package server

import (
	"encoding/base64"
	"strings"

	"github.com/shardlog/shardlog/shard"
)

// listStreamsMaxStreams is the most streams ListStreams returns per call,
// and its default Limit.
const listStreamsMaxStreams = 100

// streamsTokenPrefix starts every ListStreams NextToken (before base64), so
// a foreign token is told from ours.
const streamsTokenPrefix = "shardlog-streams-v1:"

type listStreamsInput struct {
	Limit                    *int
	ExclusiveStartStreamName *string
	NextToken                *string
}

type listStreamsOutput struct {
	StreamNames     []string
	HasMoreStreams  bool
	NextToken       string `json:",omitempty"`
	StreamSummaries []streamSummary
}

// streamSummary is the Kinesis StreamSummary structure.
type streamSummary struct {
	StreamName              string
	StreamARN               string
	StreamStatus            shard.StreamStatus
	StreamModeDetails       streamModeDetails
	StreamCreationTimestamp epochTime
}

func init() { register("ListStreams", (*Server).listStreams) }

// listStreams answers ListStreams: stream names in lexical order after
// ExclusiveStartStreamName or after the position a NextToken carries
// (whichever is further), deleting streams included as in AWS. A NextToken
// is the base64 of the last name returned; it does not expire.
func (s *Server) listStreams(in *listStreamsInput) (*listStreamsOutput, error) {
	var v validator
	v.intRange("limit", in.Limit, 1, 10000)
	v.streamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.str("nextToken", in.NextToken, 1, 1048576, nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = *in.ExclusiveStartStreamName
	}
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		name, ok := strings.CutPrefix(string(b), streamsTokenPrefix)
		if err != nil || !ok {
			return nil, apiErrorf(errInvalidArgument, "Invalid NextToken: %s", *in.NextToken)
		}
		after = max(after, name)
	}
	limit := listStreamsMaxStreams
	if in.Limit != nil && *in.Limit < limit {
		limit = *in.Limit
	}
	out := &listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummary{}}
	for _, st := range s.store.Streams() {
		if st.Name() <= after {
			continue
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(streamsTokenPrefix + out.StreamNames[limit-1]))
			break
		}
		info := st.Info()
		out.StreamNames = append(out.StreamNames, info.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName:              info.Name,
			StreamARN:               info.ARN,
			StreamStatus:            info.Status,
			StreamModeDetails:       streamModeDetails{StreamMode: info.Mode},
			StreamCreationTimestamp: epochTime{info.CreatedAt},
		})
	}
	return out, nil
}
