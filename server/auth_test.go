package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/sdkhttp"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// seedPolicy is the seed document's production policy: five actions on one
// stream's ARN.
const seedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Action":["kinesis:DescribeStream","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:PutRecord","kinesis:PutRecords"],
 "Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/app"}]}`

const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`

func mustPolicy(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newAuthEnv starts a sigv4 server with three keys: the harness's own
// AKIDEXAMPLE/secret (admin), AKIDAPP (the seed policy) and AKIDNONE (no
// policy: it may do nothing unless a resource policy says so).
func newAuthEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnv(t, func(o *Options) {
		o.Auth = Auth{Mode: AuthSigV4, Keys: []AuthKey{
			{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", User: "admin", Policy: mustPolicy(t, adminPolicy)},
			{AccessKeyID: "AKIDAPP", SecretAccessKey: "app-secret", User: "app", Policy: mustPolicy(t, seedPolicy)},
			{AccessKeyID: "AKIDNONE", SecretAccessKey: "none-secret", User: "nobody"},
		}}
	})
}

// clientAs is c's transport with other static credentials.
func (e *testEnv) clientAs(c testClient, id, secret string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		BaseEndpoint: aws.String("http://" + e.addr),
		HTTPClient:   sdkhttp.DetachBodies(c.http),
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

// wantAuthError checks the error type, the status and the message prefix.
func wantAuthError(t *testing.T, err error, typ string, status int, msgPrefix string) {
	t.Helper()
	wantAPIError(t, err, typ, msgPrefix)
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%v: want status %d", err, status)
	}
}

// tamper is an HTTP client that rewrites the request body after the SDK
// signed it.
type tamper struct{ rt http.RoundTripper }

func (tp tamper) Do(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	b = bytes.Replace(b, []byte(`"app"`), []byte(`"zzz"`), 1)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return tp.rt.RoundTrip(r)
}

func TestSigV4(t *testing.T) {
	e := newAuthEnv(t)
	e.createStream("app", 1)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		if _, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
			t.Fatalf("correct key: %v", err)
		}
		_, err := e.clientAs(c, "AKIDEXAMPLE", "wrong").ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantAuthError(t, err, wire.InvalidSignature, 400, "The request signature we calculated does not match the signature you provided.")
		_, err = e.clientAs(c, "AKIDUNKNOWN", "secret").ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantAuthError(t, err, wire.UnrecognizedClient, 400, "The security token included in the request is invalid.")

		// The request was signed 6 minutes before the server's now.
		e.skew.Store(int64(6 * time.Minute))
		_, err = c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{})
		e.skew.Store(0)
		wantAuthError(t, err, wire.InvalidSignature, 400, "Signature expired: ")
		e.skew.Store(int64(-6 * time.Minute))
		_, err = c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{})
		e.skew.Store(0)
		wantAuthError(t, err, wire.InvalidSignature, 400, "Signature not yet current: ")

		tampered := e.clientAs(c, "AKIDEXAMPLE", "secret", func(o *kinesis.Options) { o.HTTPClient = tamper{c.http.Transport} })
		_, err = tampered.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("app")})
		wantAuthError(t, err, wire.InvalidSignature, 400, "The request signature we calculated")

		wantRawError(t, c.unsigned().call(t, e.addr, "ListStreams", `{}`), wire.MissingToken, "Missing Authentication Token")
		// Signed, but the X-Amz-Date header dropped on the way.
		noDate := e.clientAs(c, "AKIDEXAMPLE", "secret", func(o *kinesis.Options) {
			o.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
				r.Header.Del("X-Amz-Date")
				return c.http.Do(r)
			})
		})
		_, err = noDate.ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantAuthError(t, err, wire.IncompleteSignature, 400, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		// Another region in the scope.
		_, err = e.clientAs(c, "AKIDEXAMPLE", "secret", func(o *kinesis.Options) { o.Region = "eu-west-1" }).ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantAuthError(t, err, wire.InvalidSignature, 400, "Credential should be scoped to a valid region, not 'eu-west-1'.")
	})
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestSigV4PayloadHeader: with x-amz-content-sha256 (as the SDKs send it
// for S3, and optionally elsewhere) a hex hash passes when it is the body's
// and fails when the body was changed under it; UNSIGNED-PAYLOAD is
// honoured.
func TestSigV4PayloadHeader(t *testing.T) {
	e := newAuthEnv(t)
	e.createStream("app", 1)
	ctx := context.Background()
	e.each(t, func(t *testing.T, c testClient) {
		withHeader := func(o *kinesis.Options) {
			o.APIOptions = append(o.APIOptions, v4.AddContentSHA256HeaderMiddleware)
		}
		unsigned := func(o *kinesis.Options) {
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware, v4.AddContentSHA256HeaderMiddleware)
		}
		in := &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("app")}
		if _, err := e.clientAs(c, "AKIDEXAMPLE", "secret", withHeader).DescribeStreamSummary(ctx, in); err != nil {
			t.Fatalf("payload hash header: %v", err)
		}
		if _, err := e.clientAs(c, "AKIDEXAMPLE", "secret", unsigned).DescribeStreamSummary(ctx, in); err != nil {
			t.Fatalf("UNSIGNED-PAYLOAD: %v", err)
		}
		tampered := e.clientAs(c, "AKIDEXAMPLE", "secret", withHeader, func(o *kinesis.Options) { o.HTTPClient = tamper{c.http.Transport} })
		_, err := tampered.DescribeStreamSummary(ctx, in)
		wantAuthError(t, err, wire.InvalidSignature, 400, "The request signature we calculated")
	})
}

func TestPolicySeedKey(t *testing.T) {
	e := newAuthEnv(t)
	e.createStream("app", 2)
	e.createStream("other", 1)
	e.each(t, func(t *testing.T, c testClient) {
		ctx := context.Background()
		app := e.clientAs(c, "AKIDAPP", "app-secret")
		if _, err := app.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("app"), PartitionKey: aws.String("k"), Data: []byte("one")}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("app"), Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("two")}}}); err != nil {
			t.Fatal(err)
		}
		d, err := app.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("app")})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, sh := range d.StreamDescription.Shards {
			it, err := app.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: d.StreamDescription.StreamARN, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			r, err := app.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			if err != nil {
				t.Fatal(err)
			}
			got += len(r.Records)
		}
		if got < 2 {
			t.Fatalf("consumed %d records, want at least 2", got)
		}

		const user = "User: arn:aws:iam::000000000000:user/app is not authorized to perform: "
		_, err = app.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("x"), ShardCount: aws.Int32(1)})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:CreateStream on resource: arn:aws:kinesis:us-east-1:000000000000:stream/x because no identity-based policy allows the kinesis:CreateStream action")
		_, err = app.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("app")})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:DeleteStream on resource: arn:aws:kinesis:us-east-1:000000000000:stream/app because")
		_, err = app.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("other"), PartitionKey: aws.String("k"), Data: []byte("x")})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:000000000000:stream/other because")
		_, err = app.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("other")})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:DescribeStream on resource: arn:aws:kinesis:us-east-1:000000000000:stream/other")
		_, err = app.ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:ListStreams on resource: * because")
		// GetRecords is judged on the stream inside the iterator: an
		// iterator of "other" (issued to the admin) does not read it.
		it, err := c.sdk.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("other"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		wantAuthError(t, err, wire.AccessDenied, 400, user+"kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:000000000000:stream/other because")
	})
}

func TestResourcePolicyEnforced(t *testing.T) {
	e := newAuthEnv(t)
	st := e.createStream("shared", 1)
	e.createStream("app", 1)
	ctx := context.Background()
	c := e.clients[1] // h2c
	admin, nobody, app := c.sdk, e.clientAs(c, "AKIDNONE", "none-secret"), e.clientAs(c, "AKIDAPP", "app-secret")

	_, err := nobody.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("shared")})
	wantAuthError(t, err, wire.AccessDenied, 400, "User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: kinesis:DescribeStreamSummary")

	// A resource policy naming the user grants what its identity policy does not.
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/nobody"},
	  "Action":"kinesis:Describe*","Resource":"` + st.ARN() + `"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(st.ARN()), Policy: aws.String(grant)}); err != nil {
		t.Fatal(err)
	}
	if _, err := nobody.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("shared")}); err != nil {
		t.Fatalf("granted by the resource policy: %v", err)
	}
	_, err = nobody.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("shared"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantAuthError(t, err, wire.AccessDenied, 400, "User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: kinesis:PutRecord")

	// An explicit Deny in the resource policy beats the identity policy's Allow.
	appStream := e.store.StreamARN("app")
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"*"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(appStream), Policy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	_, err = app.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("app"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantAuthError(t, err, wire.AccessDenied, 400, "User: arn:aws:iam::000000000000:user/app is not authorized to perform: kinesis:PutRecord on resource: "+appStream+" with an explicit deny in a resource-based policy")
	if _, err := app.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("app"), Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("y")}}}); err != nil {
		t.Fatalf("PutRecords is not denied: %v", err)
	}
}

// TestSubscribeAuthorizedOnConsumer: SubscribeToShard is judged on the
// consumer ARN, over both transports.
func TestSubscribeAuthorizedOnConsumer(t *testing.T) {
	e := newAuthEnv(t)
	st := e.createStream("app", 1)
	ctx := context.Background()
	reg, err := e.clients[0].sdk.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(st.ARN()), ConsumerName: aws.String("c1")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(reg.Consumer.ConsumerARN)
	e.each(t, func(t *testing.T, c testClient) {
		_, err := e.clientAs(c, "AKIDAPP", "app-secret").SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
			ConsumerARN: aws.String(arn), ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest},
		})
		wantAPIError(t, err, wire.AccessDenied, "User: arn:aws:iam::000000000000:user/app is not authorized to perform: kinesis:SubscribeToShard on resource: "+arn+" because")
		_, err = e.clientAs(c, "AKIDEXAMPLE", "nope").SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
			ConsumerARN: aws.String(arn), ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest},
		})
		wantAPIError(t, err, wire.InvalidSignature, "The request signature we calculated")
	})
}

func TestSecretRedacted(t *testing.T) {
	k := AuthKey{AccessKeyID: "AKID", SecretAccessKey: "hunter2"}
	j, _ := json.Marshal(k)
	for _, s := range []string{k.SecretAccessKey.String(), fmt.Sprintf("%v %+v %#v %s", k, k, k, j)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret shown: %s", s)
		}
	}
}
