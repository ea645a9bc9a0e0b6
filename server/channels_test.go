package server

import (
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

// channelInput is a complete CreateChannel request for a stream ARN.
func channelInput(streamARN string) *kinesis.CreateChannelInput {
	return &kinesis.CreateChannelInput{
		ChannelName:             aws.String("to-s3"),
		ServiceExecutionRoleARN: aws.String("arn:aws:iam::000000000000:role/channel"),
		StreamConfigurationList: []types.ChannelStreamConfiguration{{
			StreamARN:           aws.String(streamARN),
			RecordConfiguration: &types.RecordConfiguration{RecordFormatType: types.RecordFormatTypeJson},
		}},
		S3DestinationConfiguration: &types.S3DestinationConfiguration{StorageConfiguration: &types.S3StorageConfiguration{
			BucketARN:           aws.String("arn:aws:s3:::bucket"),
			CompressionType:     types.S3CompressionTypeGzip,
			ExpectedBucketOwner: aws.String("000000000000"),
		}},
	}
}

func TestChannels(t *testing.T) {
	e := newEnv(t)
	od, err := e.store.CreateStream(shard.StreamConfig{Name: "chan-od", ShardCount: 1, Mode: shard.ModeOnDemand})
	if err != nil {
		t.Fatal(err)
	}
	prov := e.createStream("chan-prov", 1)
	const channelARN = "arn:aws:kinesis:us-east-1:000000000000:channel/to-s3"
	e.each(t, func(t *testing.T, c testClient) {
		// A valid request: refused, saying why, and nothing is created.
		_, err := c.sdk.CreateChannel(ctx, channelInput(od.ARN()))
		wantAPIError(t, err, wire.InvalidArgument, "Channels deliver records to Amazon S3, which shardlog (a local Kinesis Data Streams) cannot reach")

		// Checks that come first: the destination, the source stream, its mode.
		both := channelInput(od.ARN())
		both.S3TablesDestinationConfiguration = &types.S3TablesDestinationConfiguration{
			DeadLetterQueueS3Configuration: &types.DeadLetterQueueS3Configuration{BucketARN: aws.String("arn:aws:s3:::dlq"), ExpectedBucketOwner: aws.String("000000000000")},
			S3TablesConfigurationList: []types.S3TablesConfiguration{{CompressionType: types.S3TablesCompressionTypeZstd,
				Namespace: aws.String("ns"), TableBucketARN: aws.String("arn:aws:s3tables:us-east-1:000000000000:bucket/b"), TableName: aws.String("t")}},
		}
		_, err = c.sdk.CreateChannel(ctx, both)
		wantAPIError(t, err, wire.InvalidArgument, "Specify either S3DestinationConfiguration or S3TablesDestinationConfiguration, but not both.")
		_, err = c.sdk.CreateChannel(ctx, channelInput(prov.ARN()))
		wantAPIError(t, err, wire.InvalidArgument, "Channels are only supported for ON_DEMAND streams; stream chan-prov under account 000000000000 is PROVISIONED.")
		_, err = c.sdk.CreateChannel(ctx, channelInput(od.ARN()+"-gone"))
		wantAPIError(t, err, wire.ResourceNotFound, "Stream chan-od-gone under account 000000000000 not found.")
		wantValidation(t, e, c, "CreateChannel",
			`{"ChannelName":"c","ServiceExecutionRoleARN":"r","StreamConfigurationList":[{"StreamARN":"`+od.ARN()+`","RecordConfiguration":{"RecordFormatType":"XML"}}],`+
				`"S3DestinationConfiguration":{"StorageConfiguration":{"BucketARN":"b","ExpectedBucketOwner":"o"}}}`,
			"2 validation errors detected: Value 'XML' at 'streamConfigurationList.1.member.recordConfiguration.recordFormatType' failed to satisfy constraint: "+
				"Member must satisfy enum value set: [GSR_JSON, JSON, STRING, BYTE_ARRAY]; "+
				"Value null at 's3DestinationConfiguration.storageConfiguration.compressionType' failed to satisfy constraint: Member must not be null")

		// No channel exists, so none is listed and none can be named.
		list, err := c.sdk.ListChannels(ctx, &kinesis.ListChannelsInput{StreamFilter: []types.StreamFilter{{StreamARN: aws.String(od.ARN())}}})
		if err != nil || list.ChannelSummaries == nil || len(list.ChannelSummaries) != 0 || list.NextToken != nil {
			t.Fatalf("ListChannels: %+v %v", list, err)
		}
		_, err = c.sdk.ListChannels(ctx, &kinesis.ListChannelsInput{NextToken: aws.String("abc")})
		wantAPIError(t, err, wire.InvalidArgument, "Invalid NextToken")
		wantValidation(t, e, c, "ListChannels", `{"MaxResults":0}`,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")

		notFound := "Channel " + channelARN + " not found: shardlog cannot deliver to Amazon S3, so it has no channels."
		_, err = c.sdk.DescribeChannel(ctx, &kinesis.DescribeChannelInput{ChannelARN: aws.String(channelARN)})
		wantAPIError(t, err, wire.ResourceNotFound, notFound)
		_, err = c.sdk.UpdateChannel(ctx, &kinesis.UpdateChannelInput{ChannelARN: aws.String(channelARN),
			S3DestinationConfiguration: &types.S3DestinationUpdateInput{DataFreshnessInSeconds: aws.Int32(60)}})
		wantAPIError(t, err, wire.ResourceNotFound, notFound)
		_, err = c.sdk.DeleteChannel(ctx, &kinesis.DeleteChannelInput{ChannelARN: aws.String(channelARN)})
		wantAPIError(t, err, wire.ResourceNotFound, notFound)
		wantValidation(t, e, c, "UpdateChannel", `{"ChannelARN":"`+channelARN+`","S3DestinationConfiguration":{}}`,
			"1 validation error detected: Value null at 's3DestinationConfiguration.dataFreshnessInSeconds' failed to satisfy constraint: Member must not be null")
		wantValidation(t, e, c, "DescribeChannel", `{}`,
			"1 validation error detected: Value null at 'channelARN' failed to satisfy constraint: Member must not be null")
		wantValidation(t, e, c, "DeleteChannel", `{}`,
			"1 validation error detected: Value null at 'channelARN' failed to satisfy constraint: Member must not be null")
	})
}
