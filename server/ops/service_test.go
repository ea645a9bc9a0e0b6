package ops

import (
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/server/limits"
	"github.com/shardlog/shardlog/server/metrics"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// newTestService is a Service over a store in a temporary directory, with
// the server's default options; nothing serves it.
func newTestService(t testing.TB) *Service {
	t.Helper()
	so := shard.DefaultOptions(t.TempDir())
	so.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	store, err := shard.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return New(store, Options{
		Logger:                 so.Logger,
		IteratorTTL:            5 * time.Minute,
		ShardLimit:             10000,
		OnDemandStreamLimit:    50,
		SubscriptionLifetime:   5 * time.Minute,
		SubscriptionHeartbeat:  5 * time.Second,
		SubscribeRetryInterval: 5 * time.Second,
		Now:                    time.Now,
	}, metrics.New(), limits.Limits{})
}

// mustCreateStream creates a stream of one shard.
func mustCreateStream(t testing.TB, s *Service, name string) *shard.Stream {
	t.Helper()
	st, err := s.store.CreateStream(shard.StreamConfig{Name: name, ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustPolicy(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedPolicy and adminPolicy are the policies of the server's auth tests.
const (
	seedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Action":["kinesis:DescribeStream","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:PutRecord","kinesis:PutRecords"],
 "Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/app"}]}`
	adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`
)

// TestConditionEvaluate evaluates one Allow statement under each condition
// against a fixed request: user app of account 000000000000 over cleartext
// from 127.0.0.1, on stream "tagged" (tags Owner=alice, env=prod), a
// request that carries the tags Team=blue and Cost=42.
func TestConditionEvaluate(t *testing.T) {
	s := newTestService(t)
	st := mustCreateStream(t, s, "tagged")
	if err := st.AddTags(map[string]string{"Owner": "alice", "env": "prod"}); err != nil {
		t.Fatal(err)
	}
	cred := &sigv4.Credential{Principal: policy.Principal{User: "app", ARN: "arn:aws:iam::000000000000:user/app", Account: "000000000000"}}
	rc := requestContext{s: s, cred: cred, peer: policy.Peer{Remote: "127.0.0.1:40000"},
		in:     &addTagsToStreamInput{Tags: map[string]string{"Team": "blue", "Cost": "42"}},
		fields: fieldsOf(reflect.TypeFor[addTagsToStreamInput]())}
	rc.forResource(st.ARN())
	check := func(rc *requestContext, cond string, want bool) {
		t.Helper()
		doc := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}}`
		p, err := policy.Parse([]byte(doc))
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

// FuzzParsePolicy feeds arbitrary bytes to the policy compiler as an
// identity, a resource and a stored resource policy: it must never panic,
// and whatever it accepts must evaluate without panicking, on a request
// with every context key and on one with none.
func FuzzParsePolicy(f *testing.F) {
	for _, doc := range []string{
		seedPolicy,
		adminPolicy,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"kinesis:Get*","NotResource":"arn:aws:kinesis:*:*:stream/s?"}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"lan","Effect":"Allow","Principal":{"AWS":["000000000000","arn:aws:iam::000000000000:user/app"]},
		  "Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32","127.0.0.1"]},
		  "Bool":{"aws:SecureTransport":true}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{
		  "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"DateLessThanIfExists":{"aws:EpochTime":"4102444800"},
		  "NumericLessThan":{"aws:EpochTime":4102444800},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},
		  "StringEqualsIgnoreCase":{"aws:ResourceTag/Env":["prod","dev"],"aws:RequestedRegion":"us-east-1"},
		  "StringNotLike":{"aws:RequestTag/Owner":"?*"},"Null":{"aws:RequestTag/Team":"false"},
		  "ForAllValues:StringLike":{"aws:TagKeys":["Env","Team*"]},"ForAnyValue:StringNotEquals":{"aws:TagKeys":"x"}}}}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"::ffff:10.0.0.0/104"}}}}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}}`,
		`{"Statement":[]}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(doc))
	}
	cred := &sigv4.Credential{Principal: policy.Principal{User: "app", ARN: "arn:aws:iam::000000000000:user/app", Account: "000000000000"}}
	srv := newTestService(f)
	full := &requestContext{s: srv, cred: cred, peer: policy.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, TLS: true},
		in:     &addTagsToStreamInput{Tags: map[string]string{"Team": "blue"}},
		fields: fieldsOf(reflect.TypeFor[addTagsToStreamInput]())}
	full.forResource(srv.store.StreamARN("s1"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		for kind, parse := range []func([]byte) (*policy.Policy, error){policy.Parse, policy.ParseResource, policy.ParseStored} {
			p, err := parse(doc)
			if err != nil {
				continue
			}
			var principal *policy.Principal
			if kind != 0 { // resource policies judge the caller
				principal = &cred.Principal
			}
			for _, rc := range []policy.Context{full, nil} {
				p.Evaluate("kinesis:putrecord", srv.store.StreamARN("s1"), principal, rc)
				p.Evaluate("kinesis:listStreams", "*", principal, rc)
			}
		}
	})
}

// BenchmarkAuthorize is the policy check of one PutRecords request alone:
// the seed policy without conditions (it must not allocate), and with an
// aws:SourceIp and an aws:SecureTransport condition.
func BenchmarkAuthorize(b *testing.B) {
	const conditional = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:PutRecords",
	 "Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/app",
	 "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]},"Bool":{"aws:SecureTransport":"false"}}}]}`
	for _, bc := range []struct{ name, policy string }{{"plain", seedPolicy}, {"conditions", conditional}} {
		b.Run(bc.name, func(b *testing.B) {
			s := newTestService(b)
			mustCreateStream(b, s, "app")
			cred := &sigv4.Credential{ID: "AKIDAPP", Secret: "s", Policy: mustPolicy(b, bc.policy),
				Principal: policy.Principal{User: "AKIDAPP", ARN: "arn:aws:iam::000000000000:user/AKIDAPP", Account: "000000000000"}}
			op := Operations()[TargetPrefix+"PutRecords"]
			in := &putRecordsInput{StreamName: aws.String("app")}
			peer := policy.Peer{Remote: "127.0.0.1:40000"}
			fields := fieldsOf(reflect.TypeFor[putRecordsInput]())
			b.ReportAllocs()
			for b.Loop() {
				if err := s.authorize(cred, op, in, fields, peer); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTokenOpenedOnce: authorization and the operation share one opening
// of the token.
func TestTokenOpenedOnce(t *testing.T) {
	s := &Service{tokens: wire.NewTokens([]byte("0123456789abcdef0123456789abcdef"))}
	tok := string(s.tokens.AppendIterator(nil, wire.Iterator{Stream: "app", ShardID: "shardId-000000000000"}))
	in := &getRecordsInput{ShardIterator: &tok}
	stream, present, err := in.sealedStream(s)
	if stream != "app" || !present || err != nil {
		t.Fatalf("sealedStream: %q %v %v", stream, present, err)
	}
	in.ShardIterator = aws.String("changed after authorization")
	if it, err := in.iterator(s); err != nil || it.Stream != "app" {
		t.Fatalf("the operation opened the token again: %+v %v", it, err)
	}
}

func TestDryRunHelper(t *testing.T) {
	if dryRun(nil) != nil || dryRun(aws.Bool(false)) != nil {
		t.Fatal("dryRun refused a request without DryRun")
	}
	err := dryRun(aws.Bool(true))
	if ae, ok := err.(*wire.APIError); !ok || ae.Type != wire.DryRunOperation || ae.Status() != 400 {
		t.Fatalf("dryRun(true) = %v", err)
	}
}

func TestErrorTable(t *testing.T) {
	for _, m := range sentinelErrors {
		if !wire.KnownType(m.typ) {
			t.Errorf("sentinel %v maps to %s, which has no status", m.err, m.typ)
		}
	}
}
