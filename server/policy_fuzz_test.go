package server

import (
	"net"
	"reflect"
	"testing"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
)

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
	srv := newFuzzServer(f)
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

// newFuzzServer is a server over a store in a temporary directory, not
// serving: conditions read its clock, region and streams.
func newFuzzServer(f *testing.F) *Server {
	f.Helper()
	e := newEnv(f)
	return e.srv
}
