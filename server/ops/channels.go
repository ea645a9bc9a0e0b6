package ops

import (
	"math"
	"strconv"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// Channels (CreateChannel, DescribeChannel, ListChannels, UpdateChannel,
// DeleteChannel) deliver a stream's records to Amazon S3 or S3 Tables, which
// a local daemon cannot reach. Their operations check their input exactly as
// the other operations do (ValidationException, then the source stream), and
// then say so: CreateChannel answers errChannelsUnsupported, and since no
// channel can exist, ListChannels lists none and a channel ARN names nothing
// (ResourceNotFoundException).

// errChannelsUnsupported is CreateChannel's answer to a valid request.
var errChannelsUnsupported = wire.Errorf(wire.InvalidArgument,
	"Channels deliver records to Amazon S3, which shardlog (a local Kinesis Data Streams) cannot reach: CreateChannel is not supported.")

// channelNotFound is the answer for any channel ARN.
func channelNotFound(arn string) *wire.APIError {
	return wire.Errorf(wire.ResourceNotFound, "Channel %s not found: shardlog cannot deliver to Amazon S3, so it has no channels.", arn)
}

// Channel enums, in the service model's order.
var (
	recordFormatTypes       = []string{"GSR_JSON", "JSON", "STRING", "BYTE_ARRAY"}
	s3CompressionTypes      = []string{"NONE", "GZIP", "ZSTD"}
	s3StorageClasses        = []string{"STANDARD", "INTELLIGENT_TIERING", "GLACIER_IR"}
	s3TablesCompressionType = []string{"NONE", "ZSTD", "SNAPPY"}
)

type channelRecordConfiguration struct {
	RecordFormatType *string
	GSRSchemaARN     *string
}

type channelStreamConfiguration struct {
	RecordConfiguration *channelRecordConfiguration
	StreamARN           *string
}

type channelEncryptionConfiguration struct {
	EncryptionType *string
	KeyId          *string
}

type channelCloudWatchLogs struct {
	Enabled       *bool
	LogGroupName  *string
	LogStreamName *string
}

type channelLoggingConfiguration struct {
	CloudWatchLogs *channelCloudWatchLogs
}

type channelS3Storage struct {
	BucketARN           *string
	CompressionType     *string
	ExpectedBucketOwner *string
	OutputKeyTemplate   *string
	StorageClass        *string
}

type channelDeadLetterQueue struct {
	BucketARN           *string
	ExpectedBucketOwner *string
	ErrorOutputPrefix   *string
}

type channelS3Destination struct {
	StorageConfiguration           *channelS3Storage
	DataFreshnessInSeconds         *int
	DeadLetterQueueS3Configuration *channelDeadLetterQueue
}

type channelS3Table struct {
	CompressionType *string
	Namespace       *string
	TableBucketARN  *string
	TableName       *string
}

type channelS3TablesDestination struct {
	DeadLetterQueueS3Configuration *channelDeadLetterQueue
	S3TablesConfigurationList      []channelS3Table
	DataFreshnessInSeconds         *int
}

// channelDataFreshness is the Data Freshness update of UpdateChannel.
type channelDataFreshness struct {
	DataFreshnessInSeconds *int
}

// validateLogging checks a LoggingConfiguration member of CreateChannel or
// UpdateChannel.
func validateLogging(v *wire.Validator, field string, l *channelLoggingConfiguration) {
	if l == nil {
		return
	}
	v.NotNull(field+".cloudWatchLogs", l.CloudWatchLogs != nil)
	if l.CloudWatchLogs != nil {
		v.NotNull(field+".cloudWatchLogs.enabled", l.CloudWatchLogs.Enabled != nil)
	}
}

// validateDeadLetterQueue checks a DeadLetterQueueS3Configuration member.
func validateDeadLetterQueue(v *wire.Validator, field string, q *channelDeadLetterQueue) {
	if q == nil {
		return
	}
	v.NotNull(field+".bucketARN", q.BucketARN != nil)
	v.NotNull(field+".expectedBucketOwner", q.ExpectedBucketOwner != nil)
}

// validateStreamConfigurations checks the StreamConfigurationList of
// CreateChannel: one source stream, named by ARN, and its record format.
func validateStreamConfigurations(v *wire.Validator, list []channelStreamConfiguration) {
	v.NotNull("streamConfigurationList", list != nil)
	v.ListLen("streamConfigurationList", len(list), list != nil, 1, 1, func() string { return "[...]" })
	for i, c := range list {
		field := "streamConfigurationList." + strconv.Itoa(i+1) + ".member"
		v.NotNull(field+".recordConfiguration", c.RecordConfiguration != nil)
		if r := c.RecordConfiguration; r != nil {
			v.NotNull(field+".recordConfiguration.recordFormatType", r.RecordFormatType != nil)
			v.Enum(field+".recordConfiguration.recordFormatType", r.RecordFormatType, recordFormatTypes...)
		}
		v.NotNull(field+".streamARN", c.StreamARN != nil)
		v.StreamARN(field+".streamARN", c.StreamARN)
	}
}

// validateS3Destination checks the S3DestinationConfiguration of
// CreateChannel.
func validateS3Destination(v *wire.Validator, d *channelS3Destination) {
	if d == nil {
		return
	}
	const field = "s3DestinationConfiguration"
	v.NotNull(field+".storageConfiguration", d.StorageConfiguration != nil)
	if sc := d.StorageConfiguration; sc != nil {
		v.NotNull(field+".storageConfiguration.bucketARN", sc.BucketARN != nil)
		v.NotNull(field+".storageConfiguration.compressionType", sc.CompressionType != nil)
		v.Enum(field+".storageConfiguration.compressionType", sc.CompressionType, s3CompressionTypes...)
		v.NotNull(field+".storageConfiguration.expectedBucketOwner", sc.ExpectedBucketOwner != nil)
		v.Enum(field+".storageConfiguration.storageClass", sc.StorageClass, s3StorageClasses...)
	}
	validateDeadLetterQueue(v, field+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration)
}

// validateS3TablesDestination checks the S3TablesDestinationConfiguration of
// CreateChannel.
func validateS3TablesDestination(v *wire.Validator, d *channelS3TablesDestination) {
	if d == nil {
		return
	}
	const field = "s3TablesDestinationConfiguration"
	v.NotNull(field+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration != nil)
	validateDeadLetterQueue(v, field+".deadLetterQueueS3Configuration", d.DeadLetterQueueS3Configuration)
	list := d.S3TablesConfigurationList
	v.NotNull(field+".s3TablesConfigurationList", list != nil)
	v.ListLen(field+".s3TablesConfigurationList", len(list), list != nil, 1, 1, func() string { return "[...]" })
	for i, t := range list {
		m := field + ".s3TablesConfigurationList." + strconv.Itoa(i+1) + ".member"
		v.NotNull(m+".compressionType", t.CompressionType != nil)
		v.Enum(m+".compressionType", t.CompressionType, s3TablesCompressionType...)
		v.NotNull(m+".namespace", t.Namespace != nil)
		v.NotNull(m+".tableBucketARN", t.TableBucketARN != nil)
		v.NotNull(m+".tableName", t.TableName != nil)
	}
}

// channelSourceStream resolves a channel's source stream by ARN: it must
// exist, and channels read only ON_DEMAND streams.
func (s *Service) channelSourceStream(arn string) (*shard.Stream, error) {
	st, err := s.lookupStream(nil, &arn, needChange)
	if err != nil {
		return nil, err
	}
	if mode := st.Info().Mode; mode != shard.ModeOnDemand {
		return nil, wire.Errorf(wire.InvalidArgument, "Channels are only supported for ON_DEMAND streams; stream %s under account %s is %s.",
			st.Name(), s.store.Options().AccountID, mode)
	}
	return st, nil
}

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

type channelStreamFilter struct {
	StreamARN               *string
	StreamCreationTimestamp *wire.EpochTime
}

type listChannelsInput struct {
	MaxResults   *int
	NextToken    *string
	StreamFilter []channelStreamFilter
}

// channelSummary is the ChannelSummary structure; shardlog never fills one.
type channelSummary struct{}

type listChannelsOutput struct {
	ChannelSummaries []channelSummary
}

// listChannels answers ListChannels: an empty list, which is the truth,
// since shardlog cannot deliver to S3 and so has no channels. A NextToken
// can only come from elsewhere (shardlog never issues one), so it is
// InvalidArgumentException.
func (s *Service) listChannels(in *listChannelsInput) (*listChannelsOutput, error) {
	var v wire.Validator
	v.IntRange("maxResults", in.MaxResults, 1, math.MaxInt32)
	for i, f := range in.StreamFilter {
		field := "streamFilter." + strconv.Itoa(i+1) + ".member.streamARN"
		v.NotNull(field, f.StreamARN != nil)
		v.StreamARN(field, f.StreamARN)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, wire.Errorf(wire.InvalidArgument, "Invalid NextToken: shardlog has no channels and issued no token.")
	}
	return &listChannelsOutput{ChannelSummaries: []channelSummary{}}, nil
}

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
