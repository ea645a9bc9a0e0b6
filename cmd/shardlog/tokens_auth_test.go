package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// tokensConfigYAML is a sigv4 configuration with the admin test key,
// AKIDA allowed to page stream "app" only and AKIDB stream "other" only.
const tokensConfigYAML = `auth:
  mode: sigv4
  keys:
    - access_key_id: AKIDSHARDLOGTEST
      secret_access_key: shardlog-test-secret
      user: admin
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}'
    - access_key_id: AKIDA
      secret_access_key: a-secret
      user: a
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:ListShards","kinesis:ListStreamConsumers"],"Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/app"}]}'
    - access_key_id: AKIDB
      secret_access_key: b-secret
      user: b
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:ListShards","kinesis:ListStreamConsumers"],"Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/other"}]}'
`

// TestSealedTokensAuthorized runs against a sigv4 daemon through the AWS
// SDK for Go v2: a key allowed on one stream pages it with ListShards and
// ListStreamConsumers NextTokens; NextTokens forged for another stream
// (the old unsealed format, or a real token with a bit flipped) are
// InvalidArgumentException; another key's real tokens for another stream
// are AccessDeniedException, because the token names that stream.
func TestSealedTokensAuthorized(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := startDaemonConfig(t, filepath.Join(t.TempDir(), "data"), tokensConfigYAML)
	as := func(id, secret string) *kinesis.Client {
		return kinesis.New(kinesis.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(d.Endpoint),
			Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
			HTTPClient:   sdkhttp.New(),
			Retryer:      aws.NopRetryer{},
		})
	}
	admin, a, b := kinesisClient(d.Endpoint), as("AKIDA", "a-secret"), as("AKIDB", "b-secret")
	arns := map[string]string{}
	for name, n := range map[string]int{"app": 4, "other": 3} {
		if _, err := admin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))}); err != nil {
			t.Fatal(err)
		}
		if err := kinesis.NewStreamExistsWaiter(admin, func(o *kinesis.StreamExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
		}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		sum, err := admin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		arns[name] = aws.ToString(sum.StreamDescriptionSummary.StreamARN)
		for i := range n {
			if _, err := admin.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arns[name]), ConsumerName: aws.String(name + "-c" + string(rune('0'+i)))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantErr := func(err error, code, msgPrefix string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
			t.Fatalf("got %v, want %s %q", err, code, msgPrefix)
		}
	}

	// A pages its own stream one shard, then one consumer, at a time.
	var shards []string
	in := &kinesis.ListShardsInput{StreamName: aws.String("app"), MaxResults: aws.Int32(1)}
	for {
		out, err := a.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("ListShards page %d: %v", len(shards)+1, err)
		}
		for _, s := range out.Shards {
			shards = append(shards, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if len(shards) != 4 || shards[0] != "shardId-000000000000" || shards[3] != "shardId-000000000003" {
		t.Fatalf("A paged shards %v", shards)
	}
	var consumers []string
	cin := &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arns["app"]), MaxResults: aws.Int32(1)}
	for {
		out, err := a.ListStreamConsumers(ctx, cin)
		if err != nil {
			t.Fatalf("ListStreamConsumers page %d: %v", len(consumers)+1, err)
		}
		for _, c := range out.Consumers {
			consumers = append(consumers, aws.ToString(c.ConsumerName))
		}
		if out.NextToken == nil {
			break
		}
		cin = &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arns["app"]), NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if strings.Join(consumers, ",") != "app-c0,app-c1,app-c2,app-c3" {
		t.Fatalf("A paged consumers %v", consumers)
	}

	// B's real tokens for "other".
	bShards, err := b.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("other"), MaxResults: aws.Int32(1)})
	if err != nil || bShards.NextToken == nil {
		t.Fatalf("B ListShards: %v", err)
	}
	bConsumers, err := b.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arns["other"]), MaxResults: aws.Int32(1)})
	if err != nil || bConsumers.NextToken == nil {
		t.Fatalf("B ListStreamConsumers: %v", err)
	}

	// Forged for "other": the unsealed format of before, and B's tokens
	// with one bit flipped.
	now := time.Now().UnixMilli()
	plain, _ := json.Marshal(map[string]any{"v": 1, "s": "other", "c": now, "a": "shardId-000000000000", "t": now})
	flip := func(tok string) string {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatalf("token %q is not unpadded URL-safe base64: %v", tok, err)
		}
		raw[len(raw)/2] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, tok := range []string{base64.RawURLEncoding.EncodeToString(plain), flip(*bShards.NextToken)} {
		out, err := a.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String(tok)})
		if out != nil {
			t.Fatalf("a forged token listed %v", out.Shards)
		}
		wantErr(err, "InvalidArgumentException", "Invalid NextToken: ")
	}
	_, err = a.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arns["app"]), NextToken: aws.String(flip(*bConsumers.NextToken))})
	wantErr(err, "InvalidArgumentException", "Invalid NextToken: ")

	// B's real tokens replayed by A: denied on the stream they name.
	const denied = "User: arn:aws:iam::000000000000:user/a is not authorized to perform: "
	_, err = a.ListShards(ctx, &kinesis.ListShardsInput{NextToken: bShards.NextToken})
	wantErr(err, "AccessDeniedException", denied+"kinesis:ListShards on resource: "+arns["other"])
	_, err = a.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arns["app"]), NextToken: bConsumers.NextToken})
	wantErr(err, "AccessDeniedException", denied+"kinesis:ListStreamConsumers on resource: "+arns["other"])
}
