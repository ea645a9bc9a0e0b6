package ops

import (
	"slices"
	"strings"

	"github.com/shardlog/shardlog/server/wire"
)

// maxListTagsLimit is the largest Limit of ListTagsForStream.
const maxListTagsLimit = 50

type listTagsForStreamInput struct {
	StreamName           *string
	ExclusiveStartTagKey *string
	Limit                *int
	StreamARN            *string
}

type listTagsForStreamOutput struct {
	Tags        []tag
	HasMoreTags bool
}

// listTagsForStream answers ListTagsForStream: a stream's tags sorted by key,
// starting after ExclusiveStartTagKey (which need not be a key the stream
// carries), at most Limit of them (all of them without a Limit), with
// HasMoreTags telling whether any follow.
func (s *Service) listTagsForStream(in *listTagsForStreamInput) (*listTagsForStreamOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.Str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, maxTagKeyLen, nil)
	v.IntRange("limit", in.Limit, 1, maxListTagsLimit)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	tags := sortedTags(st.Tags())
	if in.ExclusiveStartTagKey != nil {
		i, found := slices.BinarySearchFunc(tags, *in.ExclusiveStartTagKey, func(t tag, k string) int { return strings.Compare(t.Key, k) })
		if found {
			i++
		}
		tags = tags[i:]
	}
	out := &listTagsForStreamOutput{Tags: tags}
	if in.Limit != nil && len(tags) > *in.Limit {
		out.Tags, out.HasMoreTags = tags[:*in.Limit], true
	}
	return out, nil
}
