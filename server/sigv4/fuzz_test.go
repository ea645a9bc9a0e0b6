package sigv4

import (
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/wire"
)

// mapHeaders is a request's headers for checkSigV4Headers, by lower-case
// name.
type mapHeaders map[string]string

func (h mapHeaders) Value(name string) string { return h[name] }
func (h mapHeaders) Authority() string        { return h["host"] }
func (h mapHeaders) PathAndQuery() (string, string) {
	return "/", ""
}
func (h mapHeaders) UnsignedAmzHeader(signed string) string {
	for name := range h {
		if isAmzHeader(name) && !listedFold(signed, name) {
			return name
		}
	}
	return ""
}

// FuzzSigV4Headers feeds arbitrary Authorization, date and security-token
// headers to the checks that run before a body is read: they never panic,
// every refusal is one of the four authentication errors with a bounded
// message, and nothing passes without naming the configured key in a
// well-formed scope. Mode none's shape checks refuse nothing mode sigv4
// accepts, with the same error type.
func FuzzSigV4Headers(f *testing.F) {
	now := time.Now().UTC().Truncate(time.Second) // the seeds are dated now
	date, day := now.Format(AmzDateLayout), now.Format("20060102")
	good := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + day + "/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("ab", 32)
	f.Add(good, date, "")
	f.Add(good, date, "token")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+day+"/us-east-1/kinesis/aws4_request, SignedHeaders=x-amz-date, Signature=00", date, "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=, Signature=", "garbage", "")
	f.Add("AWS4-HMAC-SHA256 ,,,,Credential==//// SignedHeaders=;;;", date, "")
	f.Add("Basic dXNlcjpwYXNz", "", "")
	kr := &Keyring{SigV4: true, Keys: map[string]*Credential{"AKIDEXAMPLE": {ID: "AKIDEXAMPLE", Secret: "secret",
		Principal: policy.Principal{User: "AKIDEXAMPLE", ARN: "arn:aws:iam::000000000000:user/AKIDEXAMPLE", Account: "000000000000"}}}}
	f.Fuzz(func(t *testing.T, authorization, amzDate, token string) {
		h := mapHeaders{"authorization": authorization, "x-amz-date": amzDate, "host": "localhost", "x-amz-target": "Kinesis_20131202.ListStreams"}
		if token != "" {
			h["x-amz-security-token"] = token
		}
		p, e := CheckHeaders(h, kr, "us-east-1", now)
		// Mode none's checks (authform.go) are the first of mode sigv4's,
		// in the same order: a shape refused there is refused here alike.
		if shape := CheckShape(h); shape != nil && (e == nil || e.Type != shape.Type) {
			t.Fatalf("mode none refused with %s (%s), mode sigv4 with %v", shape.Type, shape.Message, e)
		}
		if e != nil {
			switch e.Type {
			case wire.MissingToken, wire.IncompleteSignature, wire.UnrecognizedClient, wire.InvalidSignature:
			default:
				t.Fatalf("refused with %s: %s", e.Type, e.Message)
			}
			if len(e.TruncatedMessage()) > wire.MaxMessageBytes {
				t.Fatalf("message of %d bytes", len(e.TruncatedMessage()))
			}
			return
		}
		if p.cred.ID != "AKIDEXAMPLE" || p.auth.region != "us-east-1" || p.auth.service != sigService || token != "" {
			t.Fatalf("passed the header checks: %+v", p.auth)
		}
		for _, name := range []string{"host", "x-amz-date", "x-amz-target"} {
			if !listed(p.auth.signedHeaders, name) {
				t.Fatalf("passed without %s signed: %q", name, p.auth.signedHeaders)
			}
		}
	})
}
