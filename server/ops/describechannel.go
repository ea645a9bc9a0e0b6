package ops

import "github.com/shardlog/shardlog/server/wire"

type describeChannelInput struct {
	ChannelARN *string
}

// emptyOutput is never sent: no channel exists to describe.

// describeChannel answers DescribeChannel: ResourceNotFoundException for any
// valid request, since shardlog has no channels.
func (s *Service) describeChannel(in *describeChannelInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("channelARN", in.ChannelARN != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(*in.ChannelARN)
}
