package server

type untagResourceInput struct {
	TagKeys     []string
	ResourceARN *string
}

// untagResource answers UntagResource: RemoveTagsFromStream for a resource
// named by ARN.
func (s *Server) untagResource(in *untagResourceInput) (*emptyOutput, error) {
	var v validator
	validateTagKeys(&v, in.TagKeys)
	v.notNull("resourceARN", in.ResourceARN != nil)
	v.resourceARN("resourceARN", in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.removeTags(st, in.TagKeys); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
