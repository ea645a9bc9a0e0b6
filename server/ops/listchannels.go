package ops

import (
	"math"
	"strconv"

	"github.com/shardlog/shardlog/server/wire"
)

type channelStreamFilter struct {
	StreamARN               *string
	StreamCreationTimestamp *wire.EpochTime
}

type listChannelsInput struct {
	MaxResults   *int
	NextToken    *string
	StreamFilter []channelStreamFilter
}

// channelSummary is the ChannelSummary structure; shardlog never fills one.
type channelSummary struct{}

type listChannelsOutput struct {
	ChannelSummaries []channelSummary
}

// listChannels answers ListChannels: an empty list, which is the truth,
// since shardlog cannot deliver to S3 and so has no channels. A NextToken
// can only come from elsewhere (shardlog never issues one), so it is
// InvalidArgumentException.
func (s *Service) listChannels(in *listChannelsInput) (*listChannelsOutput, error) {
	var v wire.Validator
	v.IntRange("maxResults", in.MaxResults, 1, math.MaxInt32)
	for i, f := range in.StreamFilter {
		field := "streamFilter." + strconv.Itoa(i+1) + ".member.streamARN"
		v.NotNull(field, f.StreamARN != nil)
		v.StreamARN(field, f.StreamARN)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, wire.Errorf(wire.InvalidArgument, "Invalid NextToken: shardlog has no channels and issued no token.")
	}
	return &listChannelsOutput{ChannelSummaries: []channelSummary{}}, nil
}
