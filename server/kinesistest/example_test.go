package kinesistest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog/server/kinesistest"
)

// Example puts a record and reads it back. In a test, kinesistest.New(t,
// ...) replaces Start and the deferred Close.
func Example() {
	srv, err := kinesistest.Start(kinesistest.WithStreams("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	client := kinesis.NewFromConfig(srv.Config)

	_, err = client.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName:   aws.String("orders"),
		PartitionKey: aws.String("customer-42"),
		Data:         []byte("order #1"),
	})
	if err != nil {
		log.Fatal(err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName:        aws.String("orders"),
		ShardId:           aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		log.Fatal(err)
	}
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range out.Records {
		fmt.Printf("%s: %s\n", *r.PartitionKey, r.Data)
	}
	// Output: customer-42: order #1
}
