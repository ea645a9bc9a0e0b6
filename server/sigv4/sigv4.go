package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/wire"

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
	AmzDateLayout  = "20060102T150405Z"
	maxClockSkew   = 5 * time.Minute
	unsignedBody   = "UNSIGNED-PAYLOAD"
	streamingBody  = "STREAMING-"
	sigMismatchMsg = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

var (
	ErrNoAuth        = &wire.APIError{Type: wire.MissingToken, Message: "Missing Authentication Token"}
	errUnknownKey    = &wire.APIError{Type: wire.UnrecognizedClient, Message: "The security token included in the request is invalid."}
	errBadSignature  = &wire.APIError{Type: wire.InvalidSignature, Message: sigMismatchMsg}
	errStreamingBody = &wire.APIError{Type: wire.InvalidSignature, Message: "Streaming payload signatures are not supported by Kinesis; sign the payload or send UNSIGNED-PAYLOAD."}
)

// Headers is what signature verification reads of a request beyond
// the exchange: header values by lower-case name, the host (the Host header
// under HTTP/1.1, :authority under HTTP/2) and the request target. Values
// may alias transport buffers and are only used during handle.
type Headers interface {
	// Value returns the value of the header name (lower case), or "".
	Value(name string) string
	// Authority returns the host the request was sent to.
	Authority() string
	// PathAndQuery returns the request's path and raw query.
	PathAndQuery() (path, query string)
	// UnsignedAmzHeader returns the lower-case name of an x-amz-* header
	// present in the request but not in signed, or "".
	UnsignedAmzHeader(signed string) string
}

// FastHeaders reads a fasthttp request. The conversion from
// *fasthttp.RequestCtx costs nothing, and a pointer in an interface does not
// allocate.
type FastHeaders fasthttp.RequestCtx

// Value implements Headers.
func (h *FastHeaders) Value(name string) string {
	ctx := (*fasthttp.RequestCtx)(h)
	if name == "host" || name == ":authority" {
		return wire.B2S(ctx.Host())
	}
	return wire.B2S(ctx.Request.Header.Peek(name))
}

// UnsignedAmzHeader implements Headers.
func (h *FastHeaders) UnsignedAmzHeader(signed string) string {
	for name := range (*fasthttp.RequestCtx)(h).Request.Header.All() {
		if isAmzHeader(wire.B2S(name)) && !listedFold(signed, wire.B2S(name)) {
			return strings.ToLower(string(name))
		}
	}
	return ""
}

// Authority implements Headers.
func (h *FastHeaders) Authority() string { return wire.B2S((*fasthttp.RequestCtx)(h).Host()) }

// PathAndQuery implements Headers.
func (h *FastHeaders) PathAndQuery() (string, string) {
	u := (*fasthttp.RequestCtx)(h).URI()
	return wire.B2S(u.PathOriginal()), wire.B2S(u.QueryString())
}

// HTTPHeaders reads a net/http request (HTTP/2, where Host is :authority).
type HTTPHeaders http.Request

// Value implements Headers.
func (h *HTTPHeaders) Value(name string) string {
	r := (*http.Request)(h)
	switch name {
	case "host", ":authority":
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

// UnsignedAmzHeader implements Headers.
func (h *HTTPHeaders) UnsignedAmzHeader(signed string) string {
	for name := range (*http.Request)(h).Header {
		if isAmzHeader(name) && !listedFold(signed, name) {
			return strings.ToLower(name)
		}
	}
	return ""
}

// Authority implements Headers.
func (h *HTTPHeaders) Authority() string { return (*http.Request)(h).Host }

// PathAndQuery implements Headers.
func (h *HTTPHeaders) PathAndQuery() (string, string) {
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

// separator returns the index of the first comma or space in s, or -1.
// It is strings.IndexAny(s, ", ") with two IndexByte scans, which read many
// bytes at a time where IndexAny reads one: an Authorization header is
// about 300 bytes and every request parses one.
func separator(s string) int {
	comma := strings.IndexByte(s, ',')
	head := s
	if comma >= 0 {
		head = s[:comma]
	}
	if space := strings.IndexByte(head, ' '); space >= 0 {
		return space
	}
	return comma
}

// parseAuthorization splits an Authorization header. Errors are
// IncompleteSignatureException with AWS's wording.
func parseAuthorization(v string) (authHeader, *wire.APIError) {
	var a authHeader
	alg, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if alg != sigAlgorithm {
		return a, &wire.APIError{Type: wire.IncompleteSignature, Message: "Unsupported AWS 'algorithm': '" + alg + "'."}
	}
	var Credential string
	// The parameters are separated by runs of commas and spaces; this is
	// strings.FieldsFunc without its slice, as every request comes here.
	for rest != "" {
		part := rest
		if i := separator(rest); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			Credential = val
		case "SignedHeaders":
			a.signedHeaders = val
		case "Signature":
			a.signature = val
		}
	}
	var msg string
	if Credential == "" {
		msg += "Authorization header requires 'Credential' parameter. "
	}
	if a.signature == "" {
		msg += "Authorization header requires 'Signature' parameter. "
	}
	if a.signedHeaders == "" {
		msg += "Authorization header requires 'SignedHeaders' parameter. "
	}
	if msg != "" {
		return a, &wire.APIError{Type: wire.IncompleteSignature, Message: msg + "Authorization=" + alg}
	}
	var parts [5]string
	n := 0
	for s := Credential; ; n++ {
		elem, more, found := strings.Cut(s, "/")
		if n < len(parts) {
			parts[n] = elem
		}
		if !found {
			n++
			break
		}
		s = more
	}
	if n != len(parts) {
		return a, &wire.APIError{Type: wire.IncompleteSignature, Message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + Credential + "'"}
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return a, nil
}

// Pending is a request whose Authorization has passed every check its
// headers allow: it parses, the key exists (with its session token), the
// scope and the clock are right and every header that must be signed is.
// Only the comparison, which needs the body's hash, is left (verify).
type Pending struct {
	cred     *Credential
	auth     authHeader
	amzDate  string
	unsigned bool // x-amz-content-sha256: UNSIGNED-PAYLOAD
	sig      [sha256.Size]byte
}

// CheckHeaders runs the checks of a SigV4 request that need no body,
// in AWS's order, so that a request without valid credentials is refused
// before a byte of its body is read. now is the server's clock; region the
// scope's region.
func CheckHeaders(h Headers, kr *Keyring, region string, now time.Time) (*Pending, *wire.APIError) {
	v := h.Value("authorization")
	if v == "" {
		return nil, ErrNoAuth
	}
	a, e := parseAuthorization(v)
	if e != nil {
		return nil, e
	}
	signedAt, amzDate, dateHeader, e := requestDate(h)
	if e != nil {
		return nil, e
	}
	if e := checkSignedHeaders(h, a.signedHeaders, dateHeader); e != nil {
		return nil, e
	}
	cred := kr.Keys[a.accessKeyID]
	if cred == nil || !cred.tokenMatches(h.Value("x-amz-security-token")) {
		return nil, errUnknownKey
	}
	switch {
	case a.terminator != sigTerminator:
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Credential should be scoped with a valid terminator: 'aws4_request', not '" + wire.Truncate(a.terminator, wire.MaxQuotedBytes) + "'. "}
	case a.service != sigService:
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Credential should be scoped to correct service: '" + sigService + "'. "}
	case a.region != region:
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Credential should be scoped to a valid region, not '" + wire.Truncate(a.region, wire.MaxQuotedBytes) + "'. "}
	case a.date != amzDate[:8]:
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + wire.Truncate(a.date, wire.MaxQuotedBytes) + "' != '" + amzDate[:8] + "', from '" + amzDate + "'."}
	}
	now = now.UTC()
	if signedAt.Before(now.Add(-maxClockSkew)) {
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Signature expired: " + amzDate + " is now earlier than " +
			now.Add(-maxClockSkew).Format(AmzDateLayout) + " (" + now.Format(AmzDateLayout) + " - 5 min.)"}
	}
	if signedAt.After(now.Add(maxClockSkew)) {
		return nil, &wire.APIError{Type: wire.InvalidSignature, Message: "Signature not yet current: " + amzDate + " is still later than " +
			now.Add(maxClockSkew).Format(AmzDateLayout) + " (" + now.Format(AmzDateLayout) + " + 5 min.)"}
	}
	p := &Pending{cred: cred, auth: a, amzDate: amzDate}
	if len(a.signature) != 2*sha256.Size {
		return nil, errBadSignature
	}
	if _, err := hex.Decode(p.sig[:], wire.S2B(a.signature)); err != nil {
		return nil, errBadSignature
	}
	switch claimed := h.Value("x-amz-content-sha256"); {
	case claimed == unsignedBody:
		p.unsigned = true
	case strings.HasPrefix(claimed, streamingBody):
		return nil, errStreamingBody
	}
	return p, nil
}

// requestDate reads the time a request was signed at from X-Amz-Date (ISO
// 8601 basic format) or, without one, from Date (an HTTP date). It returns
// the time, that time in X-Amz-Date's layout and the lower-case name of the
// header it came from; a request with neither, or with one that does not
// parse, is IncompleteSignatureException with AWS's wording.
func requestDate(h Headers) (signedAt time.Time, amzDate, dateHeader string, e *wire.APIError) {
	if v := h.Value("x-amz-date"); v != "" {
		t, ok := parseAmzDate(v)
		if !ok {
			return t, "", "", badDate(v)
		}
		return t, v, "x-amz-date", nil
	}
	if v := h.Value("date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return t, "", "", badDate(v)
		}
		t = t.UTC()
		return t, t.Format(AmzDateLayout), "date", nil
	}
	return time.Time{}, "", "", &wire.APIError{Type: wire.IncompleteSignature, Message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + sigAlgorithm}
}

// parseAmzDate parses an X-Amz-Date value as time.Parse(AmzDateLayout, v)
// does, and reports whether it parsed. The form every SDK sends (16 bytes,
// digits where the layout has them, a valid date) is read directly, in
// about a third of time.Parse's time (36-39 ns against 118-138 here) on
// every request; anything else goes to
// time.Parse, so what is accepted and refused stays exactly time.Parse's
// (FuzzParseAmzDate compares the two).
func parseAmzDate(v string) (time.Time, bool) {
	if len(v) == len(AmzDateLayout) && v[8] == 'T' && v[15] == 'Z' {
		n := func(i, j int) int {
			x := 0
			for ; i < j; i++ {
				c := v[i] - '0'
				if c > 9 {
					return -1
				}
				x = x*10 + int(c)
			}
			return x
		}
		year, month, day := n(0, 4), n(4, 6), n(6, 8)
		hour, minute, sec := n(9, 11), n(11, 13), n(13, 15)
		if year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour < 24 &&
			minute >= 0 && minute < 60 && sec >= 0 && sec < 60 && day <= daysIn(month, year) {
			return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
		}
	}
	t, err := time.Parse(AmzDateLayout, v)
	return t, err == nil
}

// daysIn returns the number of days of month (1-12) in year.
func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2
}

func badDate(v string) *wire.APIError {
	return &wire.APIError{Type: wire.IncompleteSignature, Message: "Date must be in ISO-8601 'basic format'. Got '" + wire.Truncate(v, wire.MaxQuotedBytes) + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
}

// checkSignedHeaders refuses a signature that leaves out a header it must
// cover: host (else a request captured for one endpoint verifies at
// another), the date header in use (else it can be replayed forever),
// x-amz-target (else a captured DescribeStream replays as DeleteStream with
// the same body) and every other x-amz-* header present, as AWS requires.
func checkSignedHeaders(h Headers, signed, dateHeader string) *wire.APIError {
	// Over HTTP/2 the JavaScript SDK signs the :authority pseudo-header
	// instead of host (its value is the same).
	if !listed(signed, "host") && !listed(signed, ":authority") {
		return &wire.APIError{Type: wire.IncompleteSignature, Message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}
	}
	if !listed(signed, dateHeader) {
		name := "X-Amz-Date"
		if dateHeader == "date" {
			name = "Date"
		}
		return &wire.APIError{Type: wire.IncompleteSignature, Message: "'" + name + "' must be a 'SignedHeader' in the AWS Authorization."}
	}
	if name := h.UnsignedAmzHeader(signed); name != "" {
		return &wire.APIError{Type: wire.IncompleteSignature, Message: "There were headers present in the request which were not signed: '" + wire.Truncate(name, wire.MaxQuotedBytes) + "' must be a 'SignedHeader' in the AWS Authorization."}
	}
	return nil
}

// listed reports whether the lower-case header name is in the
// ';'-separated SignedHeaders list. It looks for name with strings.Index
// and checks that a ';' or an end of the list bounds it: an SDK signs
// seven or so headers and each request asks for three or four names.
func listed(signed, name string) bool {
	if name == "" || strings.IndexByte(name, ';') >= 0 {
		return listedLoop(signed, name)
	}
	for i := 0; i < len(signed); {
		j := strings.Index(signed[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || signed[start-1] == ';') && (end == len(signed) || signed[end] == ';') {
			return true
		}
		i = start + 1
	}
	return false
}

// listedLoop is listed element by element, for the names Index cannot
// look for (empty, or holding the separator).
func listedLoop(signed, name string) bool {
	for rest := signed; rest != ""; {
		var n string
		n, rest, _ = strings.Cut(rest, ";")
		if n == name {
			return true
		}
	}
	return false
}

// listedFold is listed for a header name in any case. The list is
// lower-case as SigV4 writes it, so the lower-case name is looked for
// first; only a miss walks the list comparing in any case.
func listedFold(signed, name string) bool {
	var lower [64]byte
	if len(name) <= len(lower) {
		l := lower[:len(name)]
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			l[i] = c
		}
		if listed(signed, wire.B2S(l)) {
			return true
		}
	}
	return listedFoldLoop(signed, name)
}

// listedFoldLoop is listedLoop comparing in any case.
func listedFoldLoop(signed, name string) bool {
	for rest := signed; rest != ""; {
		var n string
		n, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// isAmzHeader reports whether a header name, in any case, starts with
// "x-amz-" (x-amzn-* and others are not covered by the rule).
func isAmzHeader(name string) bool {
	return len(name) >= 6 && strings.EqualFold(name[:6], "x-amz-")
}

// tokenMatches reports whether the X-Amz-Security-Token a request carries
// is this key's session token: a key with a token requires it, and a key
// without one refuses any (a long-term key never comes with one).
func (c *Credential) tokenMatches(token string) bool {
	return subtle.ConstantTimeCompare(wire.S2B(token), wire.S2B(string(c.SessionToken))) == 1
}

// Verify completes the signature check with the request body: it rebuilds
// the canonical request, signs it with the key's secret and compares the
// result with the client's signature in constant time. The payload hash is
// the literal UNSIGNED-PAYLOAD when the client says so, otherwise the
// body's own hash, whatever the client claims.
func (p *Pending) Verify(method string, h Headers, region string, body []byte) (*Credential, *wire.APIError) {
	var payload [2 * sha256.Size]byte
	payloadHash := payload[:]
	if p.unsigned {
		payloadHash = wire.S2B(unsignedBody)
	} else {
		sum := sha256.Sum256(body)
		hex.Encode(payload[:], sum[:])
	}
	buf := wire.GetBuffer()
	canon := appendCanonicalRequest((*buf)[:0], method, h, p.auth.signedHeaders, payloadHash)
	crHash := sha256.Sum256(canon)
	sts := append(canon[:0], sigAlgorithm+"\n"...)
	sts = append(sts, p.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, p.auth.date...)
	sts = append(sts, '/')
	sts = append(sts, region...)
	sts = append(sts, "/"+sigService+"/"+sigTerminator+"\n"...)
	sts = hex.AppendEncode(sts, crHash[:])
	want := hmacSHA256(p.cred.signingKey(p.auth.date, region), sts)
	wire.PutBuffer(buf, sts)
	if subtle.ConstantTimeCompare(want[:], p.sig[:]) != 1 {
		return nil, errBadSignature
	}
	return p.cred, nil
}

// appendCanonicalRequest appends the SigV4 canonical request to dst.
func appendCanonicalRequest(dst []byte, method string, h Headers, signedHeaders string, payloadHash []byte) []byte {
	path, query := h.PathAndQuery()
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
		dst = appendTrimmedValue(dst, h.Value(name))
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
func (c *Credential) signingKey(date, region string) []byte {
	if k := c.derived.Load(); k != nil && k.date == date && k.region == region {
		return k.key[:]
	}
	kDate := hmacSHA256([]byte("AWS4"+string(c.Secret)), []byte(date))
	kRegion := hmacSHA256(kDate[:], []byte(region))
	kService := hmacSHA256(kRegion[:], []byte(sigService))
	k := &signingKey{date: date, region: region, key: hmacSHA256(kService[:], []byte(sigTerminator))}
	c.derived.Store(k)
	return k.key[:]
}

// Secret is a secret string. It formats and marshals as "REDACTED", so a
// key logged by accident shows nothing.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return `"REDACTED"` }

// MarshalJSON keeps secrets out of JSON logs.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"REDACTED"`), nil }

// Keyring is the compiled access control of a server: whether requests
// must be signed, and the keys they may be signed with. It is immutable
// once built; a server swaps it whole to change it.
type Keyring struct {
	// SigV4 makes every request verify its signature.
	SigV4 bool
	// Unsigned, without SigV4, accepts requests without credentials.
	Unsigned bool
	// Keys maps an access key id to its credential.
	Keys map[string]*Credential
}

// Credential is an access key as the verifier and the policy check use
// it. Its signing key is derived once per scope date and cached in it, so
// a Credential must be shared, not copied.
type Credential struct {
	ID           string
	Secret       Secret
	SessionToken Secret // non-empty: requests must carry it
	Principal    policy.Principal
	Policy       *policy.Policy             // identity policy; nil allows nothing
	derived      atomic.Pointer[signingKey] // cached per scope date
}
