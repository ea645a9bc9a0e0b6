package ops

import (
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// listStreamsMaxStreams is the most streams ListStreams returns per call,
// and its default Limit.
const listStreamsMaxStreams = 100

// streamsToken is the content of a ListStreams NextToken (its JSON, sealed:
// seal.go, purposeStreamsToken): the last stream name returned. It names no
// resource to authorize (ListStreams is judged on "*") and, as in AWS, does
// not expire; it is sealed so that no token shardlog issues can be read or
// made by a client.
type streamsToken struct {
	After string `json:"a"`
}

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
	StreamCreationTimestamp wire.EpochTime
}

// listStreams answers ListStreams: stream names in lexical order after
// ExclusiveStartStreamName or after the position a NextToken carries
// (whichever is further), deleting streams included as in AWS.
func (s *Service) listStreams(in *listStreamsInput) (*listStreamsOutput, error) {
	var v wire.Validator
	v.IntRange("limit", in.Limit, 1, 10000)
	v.StreamName("exclusiveStartStreamName", in.ExclusiveStartStreamName)
	v.Str("nextToken", in.NextToken, 1, 1048576, nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = *in.ExclusiveStartStreamName
	}
	if in.NextToken != nil {
		var tok streamsToken
		if s.tokens.Streams.OpenJSON(*in.NextToken, &tok) != nil {
			return nil, wire.Errorf(wire.InvalidArgument, "Invalid NextToken: %s", wire.ClipToken(*in.NextToken))
		}
		after = max(after, tok.After)
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
			tok, err := s.tokens.Streams.SealJSON(streamsToken{After: out.StreamNames[limit-1]})
			if err != nil {
				return nil, err
			}
			out.NextToken = tok
			break
		}
		info := st.Info()
		out.StreamNames = append(out.StreamNames, info.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName:              info.Name,
			StreamARN:               info.ARN,
			StreamStatus:            info.Status,
			StreamModeDetails:       streamModeDetails{StreamMode: info.Mode},
			StreamCreationTimestamp: wire.EpochTime{Time: info.CreatedAt},
		})
	}
	return out, nil
}
