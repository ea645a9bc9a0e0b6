package server

import (
	"context"
	"reflect"
	"testing"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestConditionEvaluate evaluates one Allow statement under each condition
// against a fixed request: user app of account 000000000000 over cleartext
// from 127.0.0.1, on stream "tagged" (tags Owner=alice, env=prod), a
// request that carries the tags Team=blue and Cost=42.
func TestConditionEvaluate(t *testing.T) {
	e := newEnv(t)
	st := e.createStream("tagged", 1)
	if err := st.AddTags(map[string]string{"Owner": "alice", "env": "prod"}); err != nil {
		t.Fatal(err)
	}
	cred := &sigv4.Credential{Principal: policy.Principal{User: "app", ARN: "arn:aws:iam::000000000000:user/app", Account: "000000000000"}}
	rc := requestContext{s: e.srv, cred: cred, peer: policy.Peer{Remote: "127.0.0.1:40000"},
		in:     &addTagsToStreamInput{Tags: map[string]string{"Team": "blue", "Cost": "42"}},
		fields: fieldsOf(reflect.TypeFor[addTagsToStreamInput]())}
	rc.forResource(st.ARN())
	check := func(rc *requestContext, cond string, want bool) {
		t.Helper()
		doc := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}}`
		p, err := ParsePolicy([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		var ctx policy.Context // nil: a request without keys
		if rc != nil {
			ctx = rc
		}
		if got := p.Evaluate("kinesis:addtagstostream", st.ARN(), nil, ctx) == policy.Allowed; got != want {
			t.Errorf("%s: holds = %v, want %v", cond, got, want)
		}
	}
	f := func(cond string, want bool) { t.Helper(); check(&rc, cond, want) }

	// String operators; several values for one key are alternatives.
	f(`{"StringEquals":{"aws:username":"app"}}`, true)
	f(`{"StringEquals":{"aws:username":["ops","app"]}}`, true)
	f(`{"StringEquals":{"aws:username":"App"}}`, false)
	f(`{"StringNotEquals":{"aws:username":["ops","root"]}}`, true)
	f(`{"StringNotEquals":{"aws:username":["ops","app"]}}`, false)
	f(`{"StringEqualsIgnoreCase":{"aws:username":"APP"}}`, true)
	f(`{"StringNotEqualsIgnoreCase":{"aws:username":"APP"}}`, false)
	f(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/a?p"}}`, true)
	f(`{"StringNotLike":{"aws:PrincipalArn":"*:user/ops*"}}`, true)
	f(`{"StringEquals":{"aws:userid":"app","AWS:PRINCIPALACCOUNT":"000000000000","aws:PrincipalType":"User","aws:RequestedRegion":"us-east-1"}}`, true)
	// Keys under one operator, and operators in one block, all must hold.
	f(`{"StringEquals":{"aws:username":"app","aws:PrincipalType":"Role"}}`, false)
	f(`{"StringEquals":{"aws:username":"app"},"Bool":{"aws:SecureTransport":"true"}}`, false)
	// ARN operators match component by component.
	f(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::000000000000:user/*"}}`, true)
	f(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:user/app"}}`, true)
	f(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam:*::user/app"}}`, false) // "*" does not take the account's colon
	f(`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:*"}}`, true)
	// Bool, as a string or a JSON boolean.
	f(`{"Bool":{"aws:SecureTransport":"false"}}`, true)
	f(`{"Bool":{"aws:SecureTransport":true}}`, false)
	// IP blocks, bare addresses, IPv6.
	f(`{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`, true)
	f(`{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1"]}}`, true)
	f(`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, false)
	f(`{"NotIpAddress":{"aws:SourceIp":"127.0.0.1/32"}}`, false)
	f(`{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","::1"]}}`, true)
	f(`{"IpAddress":{"aws:SourceIp":"::ffff:127.0.0.0/104"}}`, true)
	// Dates and the epoch, against the server's clock.
	f(`{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}`, true)
	f(`{"DateLessThan":{"aws:CurrentTime":"2000-01-01"}}`, false)
	f(`{"DateLessThanEquals":{"aws:CurrentTime":"2999-12-31T23:59:59+01:00"}}`, true)
	f(`{"DateGreaterThanEquals":{"aws:EpochTime":"946684800"}}`, true)
	f(`{"DateEquals":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}`, false)
	f(`{"DateNotEquals":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}`, true)
	f(`{"NumericGreaterThan":{"aws:EpochTime":946684800}}`, true)
	f(`{"NumericLessThan":{"aws:EpochTime":"946684800"}}`, false)
	f(`{"NumericLessThanEquals":{"aws:EpochTime":32503680000}}`, true)
	f(`{"NumericGreaterThanEquals":{"aws:EpochTime":32503680000}}`, false)
	f(`{"NumericEquals":{"aws:EpochTime":0}}`, false)
	f(`{"NumericNotEquals":{"aws:EpochTime":0}}`, true)
	// Tags: of the resource (the stream), and of the request.
	f(`{"StringEquals":{"aws:ResourceTag/Owner":"alice"}}`, true)
	f(`{"StringEquals":{"aws:resourcetag/owner":"alice"}}`, true)
	f(`{"StringEquals":{"aws:ResourceTag/env":"dev"}}`, false)
	f(`{"StringLike":{"aws:RequestTag/Team":"bl*"}}`, true)
	f(`{"StringEquals":{"aws:RequestTag/Owner":"alice"}}`, false)
	// Missing keys: false, except negated operators, IfExists and Null.
	f(`{"StringEquals":{"aws:ResourceTag/missing":"x"}}`, false)
	f(`{"StringNotEquals":{"aws:ResourceTag/missing":"x"}}`, true)
	f(`{"StringEqualsIfExists":{"aws:ResourceTag/missing":"x"}}`, true)
	f(`{"StringEqualsIfExists":{"aws:ResourceTag/Owner":"bob"}}`, false)
	f(`{"StringEqualsIfExists":{"aws:ResourceTag/Owner":"alice"}}`, true)
	f(`{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, false)
	f(`{"Null":{"aws:ResourceTag/missing":"true"}}`, true)
	f(`{"Null":{"aws:ResourceTag/Owner":"true"}}`, false)
	f(`{"Null":{"aws:ResourceTag/Owner":false}}`, true)
	f(`{"Null":{"aws:TagKeys":"false"}}`, true)
	// Set qualifiers on the multivalued aws:TagKeys (Team, Cost).
	f(`{"ForAllValues:StringEquals":{"aws:TagKeys":["Team","Cost","Env"]}}`, true)
	f(`{"ForAllValues:StringEquals":{"aws:TagKeys":["Team"]}}`, false)
	f(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["Team"]}}`, true)
	f(`{"ForAnyValue:StringLike":{"aws:TagKeys":["x*","y*"]}}`, false)
	f(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["Team"]}}`, true)
	f(`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Secret"]}}`, true)
	f(`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Cost"]}}`, false)
	f(`{"forallvalues:stringequalsignorecase":{"aws:tagkeys":["TEAM","cost"]}}`, true)

	// A request without tags: ForAllValues holds on the empty set,
	// ForAnyValue does not; the resource tags do not change.
	bare := rc
	bare.in, bare.fields = &listStreamsInput{}, fieldsOf(reflect.TypeFor[listStreamsInput]())
	g := func(cond string, want bool) { t.Helper(); check(&bare, cond, want) }
	g(`{"ForAllValues:StringEquals":{"aws:TagKeys":["Team"]}}`, true)
	g(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["Team"]}}`, false)
	g(`{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["Team"]}}`, true)
	g(`{"Null":{"aws:TagKeys":"true"}}`, true)
	g(`{"Null":{"aws:RequestTag/Team":"true"}}`, true)
	g(`{"StringEquals":{"aws:ResourceTag/Owner":"alice"}}`, true)
	// TLS from an IPv6 client; keys read on a nil context are all missing.
	v6 := rc
	v6.peer = policy.Peer{Remote: "[2001:db8::7]:443", TLS: true}
	h := func(cond string, want bool) { t.Helper(); check(&v6, cond, want) }
	h(`{"Bool":{"aws:SecureTransport":"true"}}`, true)
	h(`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, true)
	h(`{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`, false)
	check(nil, `{"StringEquals":{"aws:username":"app"}}`, false)
	check(nil, `{"StringNotEquals":{"aws:username":"app"}}`, true)

	// An explicit Deny whose condition holds beats any Allow; one whose
	// condition does not hold leaves the Allow.
	deny := func(cond string) policy.Decision {
		t.Helper()
		p := mustPolicy(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
		  {"Effect":"Deny","Action":"*","Resource":"*","Condition":`+cond+`}]}`)
		return p.Evaluate("kinesis:putrecord", st.ARN(), nil, &rc)
	}
	if d := deny(`{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}`); d != policy.ExplicitDeny {
		t.Errorf("Deny with a holding condition: %d", d)
	}
	if d := deny(`{"IpAddress":{"aws:SourceIp":"10.0.0.1"}}`); d != policy.Allowed {
		t.Errorf("Deny with a failing condition: %d", d)
	}
}

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
