package policy

import (
	"strings"
	"testing"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicyEvaluate: actions, resources, their Not forms, Deny over
// Allow, and account principals in resource policies.
func TestPolicyEvaluate(t *testing.T) {
	c := &Principal{ARN: "arn:aws:iam::000000000000:user/u", Account: "000000000000"}
	f := func(doc, action, resource string, want Decision) {
		t.Helper()
		p := mustParse(t, doc)
		if got := p.Evaluate(strings.ToLower(action), resource, nil, nil); got != want {
			t.Errorf("%s %s %s: got %d, want %d", doc, action, resource, got, want)
		}
	}
	s1 := "arn:aws:kinesis:us-east-1:000000000000:stream/s1"
	f(`{"Statement":{"Effect":"Allow","Action":"kinesis:Get*","Resource":"*"}}`, "kinesis:GetRecords", s1, Allowed)
	f(`{"Statement":{"Effect":"Allow","Action":"kinesis:Get*","Resource":"*"}}`, "kinesis:PutRecord", s1, ImplicitDeny)
	f(`{"Statement":{"Effect":"Allow","Action":"KINESIS:getrecords","Resource":"*"}}`, "kinesis:GetRecords", s1, Allowed)
	f(`{"Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","Resource":"*"}}`, "kinesis:DeleteStream", s1, ImplicitDeny)
	f(`{"Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","Resource":"*"}}`, "kinesis:CreateStream", s1, Allowed)
	f(`{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:kinesis:*:*:stream/s?"}}`, "kinesis:PutRecord", s1, ImplicitDeny)
	f(`{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:kinesis:*:*:stream/s?"}}`, "kinesis:PutRecord", s1+"0", Allowed)
	f(`{"Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"},{"Effect":"Deny","Action":["kinesis:PutRecord"],"Resource":["arn:aws:kinesis:*:*:stream/s*"]}]}`, "kinesis:PutRecord", s1, ExplicitDeny)
	f(`{"Statement":[{"Effect":"Deny","Action":"kinesis:PutRecord","Resource":"arn:aws:kinesis:*:*:stream/S1"},{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`, "kinesis:PutRecord", s1, Allowed)

	for _, bad := range []string{`[]`, `{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`,
		`{"Statement":{"Effect":"Allow","Resource":"*"}}`, `{"Statement":{"Effect":"Allow","Action":"*"}}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransprt":"true"}}}}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}

	rp, err := ParseResource([]byte(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"*","Resource":"*"},
	  {"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::000000000000:root"]},"Action":"kinesis:Delete*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := rp.Evaluate("kinesis:putrecord", s1, c, nil); d != ImplicitDeny {
		t.Errorf("an account principal granted by itself: %d", d)
	}
	if d := rp.Evaluate("kinesis:deletestream", s1, c, nil); d != ExplicitDeny {
		t.Errorf("an account principal's Deny did not apply: %d", d)
	}
}

// TestConditionRefused: policies whose conditions cannot be checked are
// refused at load, naming what is wrong.
func TestConditionRefused(t *testing.T) {
	f := func(cond, want string) {
		t.Helper()
		doc := `{"Statement":{"Sid":"s","Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}}`
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", cond, err, want)
		}
	}
	f(`{"StringEquals":{"aws:SourceVpc":"vpc-1"}}`, `policy statement 1 (s): Condition StringEquals: unknown condition key "aws:SourceVpc"`)
	f(`{"StringEquals":{"kinesis:StreamName":"x"}}`, `unknown condition key "kinesis:StreamName"`)
	f(`{"StringEquals":{"aws:RequestTag/":"x"}}`, `condition key "aws:RequestTag/" has no tag key`)
	f(`{"StringEqualz":{"aws:username":"x"}}`, `unknown condition operator "StringEqualz"`)
	f(`{"BinaryEquals":{"aws:username":"eA=="}}`, `unknown condition operator "BinaryEquals"`)
	f(`{"NullIfExists":{"aws:username":"true"}}`, `unknown condition operator "NullIfExists"`)
	f(`{"ForSomeValues:StringEquals":{"aws:TagKeys":"x"}}`, `unknown set qualifier "ForSomeValues"`)
	f(`{"ForAnyValue:Null":{"aws:TagKeys":"true"}}`, `Null takes no set qualifier`)
	f(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`, `Condition IpAddress: aws:SourceIp: "10.0.0.0/33" is not a CIDR block`)
	f(`{"IpAddress":{"aws:SourceIp":"localhost"}}`, `"localhost" is not an IP address or CIDR block`)
	f(`{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`, `aws:CurrentTime: "tomorrow" is not an ISO 8601 date or epoch time`)
	f(`{"DateLessThan":{"aws:CurrentTime":"2020-13-01"}}`, `"2020-13-01" is not an ISO 8601 date`)
	f(`{"NumericLessThan":{"aws:EpochTime":"soon"}}`, `"soon" is not a number`)
	f(`{"Bool":{"aws:SecureTransport":"yes"}}`, `"yes" is not true or false`)
	f(`{"ArnLike":{"aws:PrincipalArn":"user/app"}}`, `"user/app" is not an ARN`)
	f(`{"StringEquals":{"aws:username":{"a":1}}}`, `aws:username: value must be a string, number or boolean, or a list of them`)
	f(`{"StringEquals":{"aws:username":null}}`, `value must be a string, number or boolean`)
	f(`{"StringEquals":{"aws:username":[]}}`, `aws:username: has no values`)
	f(`{"StringEquals":{"aws:username":"${aws:username}"}}`, `policy variables are not supported`)
	f(`{"StringEquals":{"aws:SourceIp":"127.0.0.1"}}`, `operator StringEquals does not apply to aws:SourceIp (an IP address key)`)
	f(`{"NumericEquals":{"aws:CurrentTime":"1"}}`, `operator NumericEquals does not apply to aws:CurrentTime (a date key)`)
	f(`{"IpAddress":{"aws:username":"127.0.0.1"}}`, `does not apply to aws:username`)
	f(`{"StringEquals":{"aws:TagKeys":"Team"}}`, `aws:TagKeys is multivalued: use ForAnyValue:StringEquals or ForAllValues:StringEquals`)
	f(`{"StringEquals":"aws:username"}`, `Condition must map operators to {key: values} objects`)
	f(`["StringEquals"]`, `Condition must map operators`)
}
