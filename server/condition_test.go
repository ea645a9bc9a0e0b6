package server

import (
	"context"
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestConditionEndToEnd drives conditions through the AWS SDK over both
// transports: aws:SourceIp allows loopback clients and a Deny or a
// NotIpAddress on 127.0.0.1 refuses them; aws:SecureTransport false denies
// cleartext and true allows TLS; PutResourcePolicy refuses an unknown key
// with InvalidArgumentException and enforces a resource policy's condition.
func TestConditionEndToEnd(t *testing.T) {
	const head = `{"Version":"2012-10-17","Statement":[`
	const allowAll = `{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}`
	secure := head + `{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	keys := []AuthKey{
		{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", User: "admin", Policy: mustPolicy(t, head+allowAll+`]}`)},
		{AccessKeyID: "AKIDLOOP", SecretAccessKey: "s1", User: "loop", Policy: mustPolicy(t, head+
			`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["127.0.0.0/8","::1"]}}}]}`)},
		{AccessKeyID: "AKIDDENYLOCAL", SecretAccessKey: "s2", User: "denied", Policy: mustPolicy(t, head+allowAll+
			`,{"Effect":"Deny","Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}}]}`)},
		{AccessKeyID: "AKIDREMOTE", SecretAccessKey: "s3", User: "remote", Policy: mustPolicy(t, head+
			`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.1"}}}]}`)},
		{AccessKeyID: "AKIDPLAIN", SecretAccessKey: "s4", User: "plain", Policy: mustPolicy(t, head+allowAll+
			`,{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)},
		{AccessKeyID: "AKIDSECURE", SecretAccessKey: "s5", User: "secure", Policy: mustPolicy(t, secure)},
	}
	e := newEnv(t, func(o *Options) { o.Auth = Auth{Mode: AuthSigV4, Keys: keys} })
	st := e.createStream("app", 1)
	ctx := context.Background()
	in := &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("app")}
	const denied = "User: arn:aws:iam::000000000000:user/"
	e.each(t, func(t *testing.T, c testClient) {
		if _, err := e.clientAs(c, "AKIDLOOP", "s1").DescribeStreamSummary(ctx, in); err != nil {
			t.Fatalf("aws:SourceIp 127.0.0.0/8: %v", err)
		}
		_, err := e.clientAs(c, "AKIDDENYLOCAL", "s2").DescribeStreamSummary(ctx, in)
		wantAuthError(t, err, wire.AccessDenied, 400, denied+"denied is not authorized to perform: kinesis:DescribeStreamSummary on resource: "+st.ARN()+" with an explicit deny in an identity-based policy")
		_, err = e.clientAs(c, "AKIDREMOTE", "s3").DescribeStreamSummary(ctx, in)
		wantAuthError(t, err, wire.AccessDenied, 400, denied+"remote is not authorized to perform: kinesis:DescribeStreamSummary on resource: "+st.ARN()+" because no identity-based policy allows")
		_, err = e.clientAs(c, "AKIDPLAIN", "s4").DescribeStreamSummary(ctx, in)
		wantAuthError(t, err, wire.AccessDenied, 400, denied+"plain is not authorized to perform: kinesis:DescribeStreamSummary on resource: "+st.ARN()+" with an explicit deny")
		_, err = e.clientAs(c, "AKIDSECURE", "s5").DescribeStreamSummary(ctx, in)
		wantAuthError(t, err, wire.AccessDenied, 400, denied+"secure is not authorized")
	})

	// PutResourcePolicy compiles conditions: an unknown key is refused; a
	// condition on the caller's address is enforced.
	admin := e.clients[0].sdk
	bad := head + `{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`
	_, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(st.ARN()), Policy: aws.String(bad)})
	wantAPIError(t, err, wire.InvalidArgument, `Policy is not a valid policy document: policy statement 1: Condition StringEquals: unknown condition key "aws:SourceVpce"`)
	grant := head + `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/remote"},"Action":"kinesis:DescribeStreamSummary","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(st.ARN()), Policy: aws.String(grant)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.clientAs(e.clients[1], "AKIDREMOTE", "s3").DescribeStreamSummary(ctx, in); err != nil {
		t.Fatalf("granted by the resource policy's condition: %v", err)
	}

	// Over TLS, aws:SecureTransport is true on both transports.
	te := newTLSEnv(t, func(o *Options) {
		o.Auth = Auth{Mode: AuthSigV4, Keys: []AuthKey{{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", User: "secure", Policy: mustPolicy(t, secure)}}}
	})
	te.createStream("app", 1)
	te.each(t, func(t *testing.T, c testClient) {
		if _, err := c.sdk.DescribeStreamSummary(ctx, in); err != nil {
			t.Fatalf("aws:SecureTransport over TLS: %v", err)
		}
	})
}
