package ops

import "github.com/shardlog/shardlog/server/wire"

type updateChannelInput struct {
	ChannelARN                       *string
	LoggingConfiguration             *channelLoggingConfiguration
	S3DestinationConfiguration       *channelDataFreshness
	S3TablesDestinationConfiguration *channelDataFreshness
}

// emptyOutput is never sent: no channel exists to update.

// updateChannel answers UpdateChannel: after validation,
// ResourceNotFoundException, since shardlog has no channels.
func (s *Service) updateChannel(in *updateChannelInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("channelARN", in.ChannelARN != nil)
	validateLogging(&v, "loggingConfiguration", in.LoggingConfiguration)
	if d := in.S3DestinationConfiguration; d != nil {
		v.NotNull("s3DestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds != nil)
	}
	if d := in.S3TablesDestinationConfiguration; d != nil {
		v.NotNull("s3TablesDestinationConfiguration.dataFreshnessInSeconds", d.DataFreshnessInSeconds != nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(*in.ChannelARN)
}
