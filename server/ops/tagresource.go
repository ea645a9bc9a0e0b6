package ops

import "github.com/shardlog/shardlog/server/wire"

type tagResourceInput struct {
	Tags        map[string]string
	ResourceARN *string
}

// tagResource answers TagResource: AddTagsToStream for a resource named by
// ARN. Stream ARNs are the only taggable resources until consumers exist.
func (s *Service) tagResource(in *tagResourceInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTags(&v, in.Tags)
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.addTags(st, in.Tags); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
