package ops

import "github.com/shardlog/shardlog/server/wire"

type untagResourceInput struct {
	TagKeys     []string
	ResourceARN *string
}

// untagResource answers UntagResource: RemoveTagsFromStream for a resource
// named by ARN.
func (s *Service) untagResource(in *untagResourceInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTagKeys(&v, in.TagKeys)
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
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
