package server

type describeChannelInput struct {
	ChannelARN *string
}

// emptyOutput is never sent: no channel exists to describe.

// describeChannel answers DescribeChannel: ResourceNotFoundException for any
// valid request, since shardlog has no channels.
func (s *Server) describeChannel(in *describeChannelInput) (*emptyOutput, error) {
	var v validator
	v.notNull("channelARN", in.ChannelARN != nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(*in.ChannelARN)
}
