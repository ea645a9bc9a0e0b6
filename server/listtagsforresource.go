package server

type listTagsForResourceInput struct {
	ResourceARN *string
}

type listTagsForResourceOutput struct {
	Tags []tag
}

// listTagsForResource answers ListTagsForResource: every tag of a resource
// named by ARN, sorted by key, in one page.
func (s *Server) listTagsForResource(in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	var v validator
	v.notNull("resourceARN", in.ResourceARN != nil)
	v.resourceARN("resourceARN", in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needAny)
	if err != nil {
		return nil, err
	}
	return &listTagsForResourceOutput{Tags: sortedTags(st.Tags())}, nil
}
