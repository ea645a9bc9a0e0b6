package sigv4

import (
	"net/url"
	"strings"

	"github.com/shardlog/shardlog/server/wire"
)

// Authentication under auth mode none. Nothing is verified: no key, no
// signature, no scope, no clock. But AWS refuses a request that carries no
// signature, or one that is not shaped like a SigV4 signature, before it
// looks up any key; a local server that accepted those would let a client
// pass its tests here and fail against Kinesis. So mode none still answers
// what AWS answers for the shape of the credentials (kinesalite's index.js
// makes the same checks, in this order):
//
//   - neither an Authorization header nor a presigned query
//     (X-Amz-Algorithm in the query string): MissingAuthenticationTokenException
//   - both: InvalidSignatureException
//   - a header that does not parse (parseAuthorization), no X-Amz-Date or
//     Date header or one that does not parse, or a SignedHeaders list that
//     leaves out host, the date header or an x-amz-* header sent
//     (checkSignedHeaders): IncompleteSignatureException
//   - a presigned query without one of X-Amz-Algorithm, X-Amz-Credential,
//     X-Amz-Signature, X-Amz-SignedHeaders, X-Amz-Date:
//     IncompleteSignatureException
//
// Auth.AcceptUnsigned turns all of this off, for curl and other hand-made
// requests.

var errBothAuth = &wire.APIError{Type: wire.InvalidSignature, Message: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}

// presignParams are the query parameters a presigned request must carry, in
// the order AWS lists the missing ones.
var presignParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"}

// CheckShape checks that a request carries SigV4 credentials of the
// right shape, without verifying them (auth mode none). h nil (a transport
// without headers) counts as no credentials.
func CheckShape(h Headers) *wire.APIError {
	if h == nil {
		return ErrNoAuth
	}
	v := h.Value("authorization")
	_, rawQuery := h.PathAndQuery()
	var query url.Values
	if strings.Contains(rawQuery, "X-Amz-Algorithm") {
		// A query that does not parse whole still counts for the
		// parameters that do.
		query, _ = url.ParseQuery(rawQuery)
	}
	_, presigned := query["X-Amz-Algorithm"]
	switch {
	case v != "" && presigned:
		return errBothAuth
	case v == "" && !presigned:
		return ErrNoAuth
	case presigned:
		var msg string
		for _, p := range presignParams {
			if query.Get(p) == "" {
				msg += "AWS query-string parameters must include '" + p + "'. "
			}
		}
		if msg != "" {
			return &wire.APIError{Type: wire.IncompleteSignature, Message: msg + "Re-examine the query-string parameters."}
		}
		return nil
	}
	a, e := parseAuthorization(v)
	if e != nil {
		return e
	}
	_, _, dateHeader, e := requestDate(h)
	if e != nil {
		return e
	}
	return checkSignedHeaders(h, a.signedHeaders, dateHeader)
}
