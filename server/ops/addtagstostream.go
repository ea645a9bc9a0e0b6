package ops

import "github.com/shardlog/shardlog/server/wire"

type addTagsToStreamInput struct {
	Tags       map[string]string
	StreamName *string
	StreamARN  *string
}

// addTagsToStream answers AddTagsToStream: it adds or overwrites tags on a
// stream named by StreamName or StreamARN.
func (s *Service) addTagsToStream(in *addTagsToStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTags(&v, in.Tags)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.addTags(st, in.Tags); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
