package server

import (
	"math"
	"strconv"
)

type channelStreamFilter struct {
	StreamARN               *string
	StreamCreationTimestamp *epochTime
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
func (s *Server) listChannels(in *listChannelsInput) (*listChannelsOutput, error) {
	var v validator
	v.intRange("maxResults", in.MaxResults, 1, math.MaxInt32)
	for i, f := range in.StreamFilter {
		field := "streamFilter." + strconv.Itoa(i+1) + ".member.streamARN"
		v.notNull(field, f.StreamARN != nil)
		v.streamARN(field, f.StreamARN)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, apiErrorf(errInvalidArgument, "Invalid NextToken: shardlog has no channels and issued no token.")
	}
	return &listChannelsOutput{ChannelSummaries: []channelSummary{}}, nil
}
