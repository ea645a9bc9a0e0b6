package ops

import "github.com/shardlog/shardlog/server/wire"

type deleteChannelInput struct {
	ChannelARN *string
}

// emptyOutput is never sent: no channel exists to delete.

// deleteChannel answers DeleteChannel: ResourceNotFoundException for any
// valid request, since shardlog has no channels.
func (s *Service) deleteChannel(in *deleteChannelInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("channelARN", in.ChannelARN != nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(*in.ChannelARN)
}
