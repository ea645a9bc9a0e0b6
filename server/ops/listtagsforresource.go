package ops

import "github.com/shardlog/shardlog/server/wire"

type listTagsForResourceInput struct {
	ResourceARN *string
}

type listTagsForResourceOutput struct {
	Tags []tag
}

// listTagsForResource answers ListTagsForResource: every tag of a resource
// named by ARN, sorted by key, in one page.
func (s *Service) listTagsForResource(in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	var v wire.Validator
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needAny)
	if err != nil {
		return nil, err
	}
	return &listTagsForResourceOutput{Tags: sortedTags(st.Tags())}, nil
}
