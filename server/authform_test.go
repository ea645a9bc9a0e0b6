package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"
)

// TestAuthShapeUnderModeNone sends hand-made requests with each shape of
// credentials to a server in auth mode none, over both transports.
//
// Sources: kinesalite index.js (httpHandler, after "THEN check auth")
// records AWS's answers for a missing token (MissingAuthenticationTokenException
// "Missing Authentication Token", 400), both forms at once
// (InvalidSignatureException), a header without Credential, Signature or
// SignedHeaders, no X-Amz-Date or Date, and a presigned query without its
// five parameters (IncompleteSignatureException). The unsupported
// algorithm, the five-element Credential, the date format and the
// SignedHeaders coverage messages are the ones mode sigv4 answers with
// (package sigv4), checked before any key lookup as AWS does.
func TestAuthShapeUnderModeNone(t *testing.T) {
	now := time.Now().UTC()
	amzDate, day := now.Format(sigv4.AmzDateLayout), now.Format("20060102")
	zeros := strings.Repeat("0", 64)
	wellFormed := "AWS4-HMAC-SHA256 Credential=AKIDANY/" + day + "/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + zeros
	presigned := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDANY%2F" + day + "%2Fus-east-1%2Fkinesis%2Faws4_request&X-Amz-Date=" + amzDate +
		"&X-Amz-SignedHeaders=host&X-Amz-Signature=" + zeros
	type tc struct {
		name    string
		query   string
		headers map[string]string // "" deletes
		typ     string            // "" means accepted (200)
		msg     string
	}
	cases := []tc{
		{name: "no credentials", headers: map[string]string{"Authorization": "", "X-Amz-Date": ""},
			typ: wire.MissingToken, msg: "Missing Authentication Token"},
		{name: "well-formed, wrong signature", headers: map[string]string{"Authorization": wellFormed}},
		{name: "unknown key, other region, Date header", headers: map[string]string{"X-Amz-Date": "", "Date": now.Format(http.TimeFormat),
			"Authorization": "AWS4-HMAC-SHA256 Credential=NOBODY/" + day + "/eu-west-9/kinesis/aws4_request, SignedHeaders=date;host;x-amz-target, Signature=" + zeros}},
		{name: "presigned query", query: presigned, headers: map[string]string{"Authorization": "", "X-Amz-Date": ""}},
		{name: "both header and query", query: presigned, headers: map[string]string{"Authorization": wellFormed},
			typ: wire.InvalidSignature, msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{name: "query without its parameters", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + amzDate, headers: map[string]string{"Authorization": "", "X-Amz-Date": ""},
			typ: wire.IncompleteSignature, msg: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. " +
				"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{name: "other scheme", headers: map[string]string{"Authorization": "Bearer abc"},
			typ: wire.IncompleteSignature, msg: "Unsupported AWS 'algorithm': 'Bearer'."},
		{name: "algorithm alone", headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256"},
			typ: wire.IncompleteSignature, msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"},
		{name: "short credential", headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDANY/" + day + ", SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + zeros},
			typ: wire.IncompleteSignature, msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDANY/" + day + "'"},
		{name: "no date header", headers: map[string]string{"Authorization": wellFormed, "X-Amz-Date": ""},
			typ: wire.IncompleteSignature, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"},
		{name: "bad date", headers: map[string]string{"Authorization": wellFormed, "X-Amz-Date": "yesterday"},
			typ: wire.IncompleteSignature, msg: "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "host not signed", headers: map[string]string{"Authorization": strings.Replace(wellFormed, "host;", "", 1)},
			typ: wire.IncompleteSignature, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "target not signed", headers: map[string]string{"Authorization": strings.Replace(wellFormed, ";x-amz-target", "", 1)},
			typ: wire.IncompleteSignature, msg: "There were headers present in the request which were not signed: 'x-amz-target' must be a 'SignedHeader' in the AWS Authorization."},
	}
	send := func(t *testing.T, c testClient, addr string, k tc) rawResponse {
		t.Helper()
		url := "http://" + addr + "/"
		if k.query != "" {
			url += "?" + k.query
		}
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", targetPrefix+"ListStreams")
		req.Header.Set("X-Amz-Date", amzDate)
		for name, v := range k.headers {
			if v == "" {
				req.Header.Del(name)
			} else {
				req.Header.Set(name, v)
			}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return readRaw(t, resp)
	}

	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		for _, k := range cases {
			t.Run(k.name, func(t *testing.T) {
				r := send(t, c, e.addr, k)
				if k.typ == "" {
					if r.status != http.StatusOK {
						t.Fatalf("got %d %v, want 200", r.status, r.body)
					}
					return
				}
				wantRawError(t, r, k.typ, k.msg)
			})
		}
	})

	// auth.accept_unsigned: every shape is accepted, none at all included.
	open := newEnv(t, func(o *Options) { o.Auth.AcceptUnsigned = true })
	open.each(t, func(t *testing.T, c testClient) {
		for _, k := range cases {
			t.Run("accept_unsigned/"+k.name, func(t *testing.T) {
				if r := send(t, c, open.addr, k); r.status != http.StatusOK {
					t.Fatalf("got %d %v, want 200", r.status, r.body)
				}
			})
		}
	})
}
