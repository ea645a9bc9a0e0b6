package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// AWS Signature Version 4 verification (mode sigv4). The server rebuilds the
// canonical request from what arrived — method, path, query, the headers the
// client lists in SignedHeaders, and the SHA-256 of the body — signs it with
// the secret of the access key named in the Credential, and compares the
// result with the client's Signature in constant time. Only the
// Authorization-header form is accepted: the SDKs never presign Kinesis
// POSTs.
//
// Payload hash: the server always hashes the body itself. A client that sends
// x-amz-content-sha256 with a hex hash signs that same hash into its
// canonical request, so a body altered in flight fails the comparison. The
// literal UNSIGNED-PAYLOAD (an SDK option over TLS) is honoured as AWS does:
// the signature then covers the headers only. Streaming payload signatures
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, S3's aws-chunked uploads) are not used
// by any Kinesis client, SubscribeToShard included (its request body is
// ordinary JSON), and are refused.

const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	sigService     = "kinesis"
	sigTerminator  = "aws4_request"
	amzDateLayout  = "20060102T150405Z"
	maxClockSkew   = 5 * time.Minute
	unsignedBody   = "UNSIGNED-PAYLOAD"
	streamingBody  = "STREAMING-"
	sigMismatchMsg = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Authentication error types, as AWS's JSON services name them. All are
// answered with status 400, as Kinesis does (kinesalite's index.js records
// the same).
const (
	errMissingToken        = "MissingAuthenticationTokenException"
	errIncompleteSignature = "IncompleteSignatureException"
	errUnrecognizedClient  = "UnrecognizedClientException"
	errInvalidSignature    = "InvalidSignatureException"
)

var (
	errNoAuth        = &APIError{Type: errMissingToken, Message: "Missing Authentication Token"}
	errUnknownKey    = &APIError{Type: errUnrecognizedClient, Message: "The security token included in the request is invalid."}
	errBadSignature  = &APIError{Type: errInvalidSignature, Message: sigMismatchMsg}
	errStreamingBody = &APIError{Type: errInvalidSignature, Message: "Streaming payload signatures are not supported by Kinesis; sign the payload or send UNSIGNED-PAYLOAD."}
)

// requestHeaders is what signature verification reads of a request beyond
// the exchange: header values by lower-case name, the host (the Host header
// under HTTP/1.1, :authority under HTTP/2) and the request target. Values
// may alias transport buffers and are only used during handle.
type requestHeaders interface {
	header(name string) string
	host() string
	pathAndQuery() (path, query string)
}

// fastHeaders reads a fasthttp request. The conversion from
// *fasthttp.RequestCtx costs nothing, and a pointer in an interface does not
// allocate.
type fastHeaders fasthttp.RequestCtx

func (h *fastHeaders) header(name string) string {
	ctx := (*fasthttp.RequestCtx)(h)
	if name == "host" {
		return b2s(ctx.Host())
	}
	return b2s(ctx.Request.Header.Peek(name))
}

func (h *fastHeaders) host() string { return b2s((*fasthttp.RequestCtx)(h).Host()) }

func (h *fastHeaders) pathAndQuery() (string, string) {
	u := (*fasthttp.RequestCtx)(h).URI()
	return b2s(u.PathOriginal()), b2s(u.QueryString())
}

// httpHeaders reads a net/http request (HTTP/2, where Host is :authority).
type httpHeaders http.Request

func (h *httpHeaders) header(name string) string {
	r := (*http.Request)(h)
	switch name {
	case "host":
		return r.Host
	case "content-length":
		// net/http moves Content-Length out of the header map.
		if r.ContentLength >= 0 && r.Header.Get("Content-Length") == "" {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	}
	vs := r.Header.Values(name)
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, ",")
}

func (h *httpHeaders) host() string { return (*http.Request)(h).Host }

func (h *httpHeaders) pathAndQuery() (string, string) {
	u := (*http.Request)(h).URL
	return u.EscapedPath(), u.RawQuery
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	accessKeyID   string
	date          string // YYYYMMDD of the credential scope
	region        string
	service       string
	terminator    string
	signedHeaders string // as sent: lower-case names joined by ';'
	signature     string // hex
}

// parseAuthorization splits an Authorization header. Errors are
// IncompleteSignatureException with AWS's wording.
func parseAuthorization(v string) (authHeader, *APIError) {
	var a authHeader
	alg, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if alg != sigAlgorithm {
		return a, &APIError{Type: errIncompleteSignature, Message: "Unsupported AWS 'algorithm': '" + alg + "'."}
	}
	var credential string
	for _, part := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' }) {
		k, val, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			credential = val
		case "SignedHeaders":
			a.signedHeaders = val
		case "Signature":
			a.signature = val
		}
	}
	var msg string
	if credential == "" {
		msg += "Authorization header requires 'Credential' parameter. "
	}
	if a.signature == "" {
		msg += "Authorization header requires 'Signature' parameter. "
	}
	if a.signedHeaders == "" {
		msg += "Authorization header requires 'SignedHeaders' parameter. "
	}
	if msg != "" {
		return a, &APIError{Type: errIncompleteSignature, Message: msg + "Authorization=" + alg}
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 {
		return a, &APIError{Type: errIncompleteSignature, Message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + credential + "'"}
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return a, nil
}

// verifySigV4 checks the signature of x against the keys in kr and returns
// the key that signed it. now is the server's clock; region the scope's
// region.
func verifySigV4(x *exchange, kr *keyring, region string, now time.Time) (*credential, *APIError) {
	h := x.headers
	v := h.header("authorization")
	if v == "" {
		return nil, errNoAuth
	}
	a, e := parseAuthorization(v)
	if e != nil {
		return nil, e
	}
	amzDate := h.header("x-amz-date")
	var signedAt time.Time
	if amzDate != "" {
		t, err := time.Parse(amzDateLayout, amzDate)
		if err != nil {
			return nil, &APIError{Type: errIncompleteSignature, Message: "Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
		}
		signedAt = t
	} else if d := h.header("date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, &APIError{Type: errIncompleteSignature, Message: "Date must be in ISO-8601 'basic format'. Got '" + d + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
		}
		signedAt, amzDate = t.UTC(), t.UTC().Format(amzDateLayout)
	} else {
		return nil, &APIError{Type: errIncompleteSignature, Message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + sigAlgorithm}
	}
	cred := kr.keys[a.accessKeyID]
	if cred == nil {
		return nil, errUnknownKey
	}
	switch {
	case a.terminator != sigTerminator:
		return nil, &APIError{Type: errInvalidSignature, Message: "Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.terminator + "'. "}
	case a.service != sigService:
		return nil, &APIError{Type: errInvalidSignature, Message: "Credential should be scoped to correct service: '" + sigService + "'. "}
	case a.region != region:
		return nil, &APIError{Type: errInvalidSignature, Message: "Credential should be scoped to a valid region, not '" + a.region + "'. "}
	case a.date != amzDate[:8]:
		return nil, &APIError{Type: errInvalidSignature, Message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.date + "' != '" + amzDate[:8] + "', from '" + amzDate + "'."}
	}
	now = now.UTC()
	if signedAt.Before(now.Add(-maxClockSkew)) {
		return nil, &APIError{Type: errInvalidSignature, Message: "Signature expired: " + amzDate + " is now earlier than " +
			now.Add(-maxClockSkew).Format(amzDateLayout) + " (" + now.Format(amzDateLayout) + " - 5 min.)"}
	}
	if signedAt.After(now.Add(maxClockSkew)) {
		return nil, &APIError{Type: errInvalidSignature, Message: "Signature not yet current: " + amzDate + " is still later than " +
			now.Add(maxClockSkew).Format(amzDateLayout) + " (" + now.Format(amzDateLayout) + " + 5 min.)"}
	}
	if len(a.signature) != 2*sha256.Size {
		return nil, errBadSignature
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], s2b(a.signature)); err != nil {
		return nil, errBadSignature
	}

	// The payload hash: the literal UNSIGNED-PAYLOAD when the client says so,
	// otherwise the body's own hash, whatever the client claims.
	var payload [2 * sha256.Size]byte
	payloadHash := payload[:]
	switch claimed := h.header("x-amz-content-sha256"); {
	case claimed == unsignedBody:
		payloadHash = s2b(unsignedBody)
	case strings.HasPrefix(claimed, streamingBody):
		return nil, errStreamingBody
	default:
		sum := sha256.Sum256(x.body)
		hex.Encode(payload[:], sum[:])
	}

	buf := getBuffer()
	canon := appendCanonicalRequest((*buf)[:0], x.method, h, a.signedHeaders, payloadHash)
	crHash := sha256.Sum256(canon)
	sts := append(canon[:0], sigAlgorithm+"\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, a.date...)
	sts = append(sts, '/')
	sts = append(sts, region...)
	sts = append(sts, "/"+sigService+"/"+sigTerminator+"\n"...)
	sts = hex.AppendEncode(sts, crHash[:])
	want := hmacSHA256(cred.signingKey(a.date, region), sts)
	putBuffer(buf, sts)
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return nil, errBadSignature
	}
	return cred, nil
}

// appendCanonicalRequest appends the SigV4 canonical request to dst.
func appendCanonicalRequest(dst []byte, method string, h requestHeaders, signedHeaders string, payloadHash []byte) []byte {
	path, query := h.pathAndQuery()
	if path == "" {
		path = "/"
	}
	dst = append(dst, method...)
	dst = append(dst, '\n')
	// Every SDK escapes the (already escaped) path once more for services
	// other than S3; "/" stays "/".
	dst = appendURIEscape(dst, path, false)
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, query)
	dst = append(dst, '\n')
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendTrimmedValue(dst, h.header(name))
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, signedHeaders...)
	dst = append(dst, '\n')
	return append(dst, payloadHash...)
}

// appendTrimmedValue appends a header value with leading and trailing
// spaces removed and runs of spaces collapsed to one, as the SDKs sign it.
func appendTrimmedValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalQuery appends the query parameters sorted by name then
// value, each name and value URI-escaped.
func appendCanonicalQuery(dst []byte, raw string) []byte {
	if raw == "" {
		return dst
	}
	type kv struct{ k, v string }
	var params []kv
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		params = append(params, kv{k, v})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	for i, p := range params {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendURIEscape(dst, p.k, true)
		dst = append(dst, '=')
		dst = appendURIEscape(dst, p.v, true)
	}
	return dst
}

func queryUnescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// appendURIEscape escapes s as SigV4 requires: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, everything else becomes %XX in upper case; '/'
// stays too unless encodeSlash.
func appendURIEscape(dst []byte, s string, encodeSlash bool) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// hmacSHA256 returns HMAC-SHA256(key, msg).
func hmacSHA256(key []byte, msg []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// signingKey is a derived SigV4 key for one scope date.
type signingKey struct {
	date, region string
	key          [sha256.Size]byte
}

// signingKey returns the derived key of c for (date, region, kinesis),
// computing it at most once per scope date: four HMACs saved per request.
func (c *credential) signingKey(date, region string) []byte {
	if k := c.derived.Load(); k != nil && k.date == date && k.region == region {
		return k.key[:]
	}
	kDate := hmacSHA256([]byte("AWS4"+string(c.secret)), []byte(date))
	kRegion := hmacSHA256(kDate[:], []byte(region))
	kService := hmacSHA256(kRegion[:], []byte(sigService))
	k := &signingKey{date: date, region: region, key: hmacSHA256(kService[:], []byte(sigTerminator))}
	c.derived.Store(k)
	return k.key[:]
}
