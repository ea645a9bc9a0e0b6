package server

type addTagsToStreamInput struct {
	Tags       map[string]string
	StreamName *string
	StreamARN  *string
}

// addTagsToStream answers AddTagsToStream: it adds or overwrites tags on a
// stream named by StreamName or StreamARN.
func (s *Server) addTagsToStream(in *addTagsToStreamInput) (*emptyOutput, error) {
	var v validator
	validateTags(&v, in.Tags)
	v.streamName("streamName", in.StreamName)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
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
