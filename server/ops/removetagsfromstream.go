package ops

import "github.com/shardlog/shardlog/server/wire"

type removeTagsFromStreamInput struct {
	TagKeys    []string
	StreamName *string
	StreamARN  *string
}

// removeTagsFromStream answers RemoveTagsFromStream: it removes tags by key
// from a stream; keys the stream does not carry are ignored.
func (s *Service) removeTagsFromStream(in *removeTagsFromStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTagKeys(&v, in.TagKeys)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.removeTags(st, in.TagKeys); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}
