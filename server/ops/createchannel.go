package ops

import "github.com/shardlog/shardlog/server/wire"

type createChannelInput struct {
	ChannelName                      *string
	ServiceExecutionRoleARN          *string
	StreamConfigurationList          []channelStreamConfiguration
	EncryptionConfiguration          *channelEncryptionConfiguration
	LoggingConfiguration             *channelLoggingConfiguration
	S3DestinationConfiguration       *channelS3Destination
	S3TablesDestinationConfiguration *channelS3TablesDestination
	Tags                             map[string]string
}

// emptyOutput is never sent: CreateChannel always fails here.

// createChannel answers CreateChannel. It checks the request as AWS does:
// required members and enums, exactly one destination (S3 or S3 Tables),
// and an existing ON_DEMAND source stream; then, since shardlog cannot
// deliver to S3, it answers errChannelsUnsupported. It never creates
// anything.
func (s *Service) createChannel(in *createChannelInput) (*emptyOutput, error) {
	var v wire.Validator
	v.NotNull("channelName", in.ChannelName != nil)
	v.NotNull("serviceExecutionRoleARN", in.ServiceExecutionRoleARN != nil)
	validateStreamConfigurations(&v, in.StreamConfigurationList)
	if e := in.EncryptionConfiguration; e != nil {
		v.NotNull("encryptionConfiguration.encryptionType", e.EncryptionType != nil)
		v.Enum("encryptionConfiguration.encryptionType", e.EncryptionType, encryptionKMS)
		v.NotNull("encryptionConfiguration.keyId", e.KeyId != nil)
	}
	validateLogging(&v, "loggingConfiguration", in.LoggingConfiguration)
	validateS3Destination(&v, in.S3DestinationConfiguration)
	validateS3TablesDestination(&v, in.S3TablesDestinationConfiguration)
	v.MapLen("tags", in.Tags, in.Tags != nil, 0, maxTagsPerCall)
	v.MapEntries("tags", in.Tags, 1, maxTagKeyLen, 0, maxTagValueLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if (in.S3DestinationConfiguration == nil) == (in.S3TablesDestinationConfiguration == nil) {
		return nil, wire.Errorf(wire.InvalidArgument, "Specify either S3DestinationConfiguration or S3TablesDestinationConfiguration, but not both.")
	}
	if _, err := s.channelSourceStream(*in.StreamConfigurationList[0].StreamARN); err != nil {
		return nil, err
	}
	return nil, errChannelsUnsupported
}
