package server

type removeTagsFromStreamInput struct {
	TagKeys    []string
	StreamName *string
	StreamARN  *string
}

// removeTagsFromStream answers RemoveTagsFromStream: it removes tags by key
// from a stream; keys the stream does not carry are ignored.
func (s *Server) removeTagsFromStream(in *removeTagsFromStreamInput) (*emptyOutput, error) {
	var v validator
	validateTagKeys(&v, in.TagKeys)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
