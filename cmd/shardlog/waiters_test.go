package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// waitersConfig keeps streams CREATING and DELETING for 2 s each, so the
// waiters below see both states before the one they wait for.
const waitersConfig = "streams:\n  create_delay: 2s\n  delete_delay: 2s\n"

// TestSDKStreamWaiters runs the AWS SDK for Go v2's StreamExists and
// StreamNotExists waiters against a daemon with 2 s create and delete
// delays. StreamExists polls DescribeStream until ACTIVE; StreamNotExists
// polls it until ResourceNotFoundException (api_op_DescribeStream.go), so
// DescribeStream must answer DELETING during the delay and
// ResourceNotFoundException after it, never an error in between.
func TestSDKStreamWaiters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), waitersConfig)
	c := kinesisClient(d.Endpoint)
	name := aws.String("waited")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	exists := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := exists.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: name}, 30*time.Second); err != nil {
		t.Fatalf("StreamExists: %v", err)
	}
	if took := time.Since(began); took < time.Second {
		t.Fatalf("StreamExists returned after %s, before the 2 s create delay", took)
	}

	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name}); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	d1, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
	if err != nil || d1.StreamDescription.StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("DescribeStream right after DeleteStream: %v, %+v", err, d1)
	}
	notExists := kinesis.NewStreamNotExistsWaiter(c, func(o *kinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := notExists.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: name}, 30*time.Second); err != nil {
		t.Fatalf("StreamNotExists: %v", err)
	}
	if took := time.Since(began); took < time.Second {
		t.Fatalf("StreamNotExists returned after %s, before the 2 s delete delay", took)
	}
}

// TestBoto3StreamNotExistsWaiter runs boto3's stream_exists and
// stream_not_exists waiters (testdata/boto3_waiters.py) against a daemon
// with 2 s create and delete delays.
func TestBoto3StreamNotExistsWaiter(t *testing.T) {
	python, ok := python3WithBoto3()
	requireClient(t, ok, "Python 3 with boto3", "apt-get install python3-boto3")
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), waitersConfig)
	runClient(t, d, python, "testdata/boto3_waiters.py")
}
