package policy

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The condition keys a policy Condition may test, and the request context
// they are read from. The global keys are the ones that mean something on
// a single-node daemon; the service keys are those the Service
// Authorization Reference lists for Kinesis Data Streams (aws:RequestTag/,
// aws:ResourceTag/, aws:TagKeys: it lists no kinesis: keys). Key names are
// case-insensitive, the ${TagKey} part included, as in IAM.

// keyID names a supported condition key.
type keyID uint8

const (
	keySourceIP keyID = iota + 1
	keySecureTransport
	keyCurrentTime
	keyEpochTime
	keyUsername
	keyUserID
	keyPrincipalARN
	keyPrincipalAccount
	keyPrincipalType
	keyRequestedRegion
	keyRequestTag  // aws:RequestTag/${TagKey}
	keyResourceTag // aws:ResourceTag/${TagKey}
	keyTagKeys
)

// keySpec describes one condition key.
type keySpec struct {
	id    keyID
	name  string // as IAM spells it, for messages
	typ   string // its IAM data type, for messages
	kinds []opKind
	multi bool // multivalued: needs ForAnyValue: or ForAllValues:
}

// accepts reports whether operators of kind k apply to the key; Null
// applies to every key.
func (k *keySpec) accepts(kind opKind) bool {
	return kind == opNull || slices.Contains(k.kinds, kind)
}

var (
	stringOps = []opKind{opString, opStringFold, opStringLike}
	arnOps    = []opKind{opString, opStringFold, opStringLike, opARN}
)

// conditionKeys maps a lower-case key name (a tag key's prefix ending in
// '/') to its spec. It is read-only.
var conditionKeys = func() map[string]*keySpec {
	m := map[string]*keySpec{}
	for _, k := range []keySpec{
		{id: keySourceIP, name: "aws:SourceIp", typ: "an IP address key", kinds: []opKind{opIP}},
		{id: keySecureTransport, name: "aws:SecureTransport", typ: "a boolean key", kinds: []opKind{opBool}},
		{id: keyCurrentTime, name: "aws:CurrentTime", typ: "a date key", kinds: []opKind{opDate}},
		{id: keyEpochTime, name: "aws:EpochTime", typ: "a date or numeric key", kinds: []opKind{opDate, opNumeric}},
		{id: keyUsername, name: "aws:username", typ: "a string key", kinds: stringOps},
		{id: keyUserID, name: "aws:userid", typ: "a string key", kinds: stringOps},
		{id: keyPrincipalARN, name: "aws:PrincipalArn", typ: "an ARN key", kinds: arnOps},
		{id: keyPrincipalAccount, name: "aws:PrincipalAccount", typ: "a string key", kinds: stringOps},
		{id: keyPrincipalType, name: "aws:PrincipalType", typ: "a string key", kinds: stringOps},
		{id: keyRequestedRegion, name: "aws:RequestedRegion", typ: "a string key", kinds: stringOps},
		{id: keyRequestTag, name: "aws:RequestTag/", typ: "a string key", kinds: stringOps},
		{id: keyResourceTag, name: "aws:ResourceTag/", typ: "a string key", kinds: stringOps},
		{id: keyTagKeys, name: "aws:TagKeys", typ: "a multivalued string key", kinds: stringOps, multi: true},
	} {
		m[strings.ToLower(k.name)] = &k
	}
	return m
}()

// lookupKey finds the spec of a key name, and the tag key of a tag key.
func lookupKey(name string) (*keySpec, string, error) {
	lower := strings.ToLower(name)
	if k, ok := conditionKeys[lower]; ok && !strings.HasSuffix(lower, "/") {
		return k, "", nil
	}
	if prefix, tag, ok := strings.Cut(lower, "/"); ok {
		if k, ok := conditionKeys[prefix+"/"]; ok {
			if tag == "" {
				return nil, "", fmt.Errorf("condition key %q has no tag key", name)
			}
			return k, name[len(prefix)+1:], nil
		}
	}
	return nil, "", fmt.Errorf("unknown condition key %q", name)
}

// ctxValue is the value of a single-valued key, in the field its type uses.
type ctxValue struct {
	str  string
	ip   netip.Addr
	num  float64 // aws:CurrentTime and aws:EpochTime: Unix seconds
	flag bool
}

// tagValue looks a tag key up, exactly first, then ignoring case.
func tagValue(tags map[string]string, key string) (ctxValue, bool) {
	if s, ok := tags[key]; ok {
		return ctxValue{str: s}, true
	}
	for k, s := range tags {
		if strings.EqualFold(k, key) {
			return ctxValue{str: s}, true
		}
	}
	return ctxValue{}, false
}

// Peer is what the transport knows of the connection a request came
// on: the client's address and whether TLS protects it. It is set
// when the exchange is built and read only by conditions (aws:SourceIp,
// aws:SecureTransport), so building it costs no parsing.
type Peer struct {
	Addr   net.Addr // fasthttp: the connection's remote address
	Remote string   // net/http: Request.RemoteAddr, "ip:port"
	TLS    bool
}

// IP returns the client's address, IPv4-mapped addresses unmapped, or
// false when the transport gave none.
func (p *Peer) IP() (netip.Addr, bool) {
	var a netip.Addr
	switch t := p.Addr.(type) {
	case *net.TCPAddr:
		a, _ = netip.AddrFromSlice(t.IP)
	case nil:
		if ap, err := netip.ParseAddrPort(p.Remote); err == nil {
			a = ap.Addr()
		}
	default:
		if ap, err := netip.ParseAddrPort(t.String()); err == nil {
			a = ap.Addr()
		}
	}
	a = a.Unmap()
	return a, a.IsValid() && !a.IsUnspecified()
}

// Context is what conditions read of the request being authorized: its
// connection, its caller, its members and the resource being judged. The
// server implements it for one request; values are asked for only when a
// condition tests them, so policies without conditions cost nothing. A nil
// Context has no keys.
type Context interface {
	// SourceIP is the client's address (aws:SourceIp), false when unknown.
	SourceIP() (netip.Addr, bool)
	// SecureTransport reports whether TLS protects the request.
	SecureTransport() bool
	// Now is the time of the request (aws:CurrentTime, aws:EpochTime).
	Now() time.Time
	// Principal is the caller.
	Principal() *Principal
	// Region is the region the request is sent to (aws:RequestedRegion).
	Region() string
	// RequestTags are the tags the request carries (aws:RequestTag/), or nil.
	RequestTags() map[string]string
	// TagKeys are the tag keys the request names (aws:TagKeys), or nil.
	TagKeys() []string
	// ResourceTags are the tags of the resource being judged
	// (aws:ResourceTag/), or nil.
	ResourceTags() map[string]string
}

// Principal is the caller a policy judges: an IAM user of an account.
type Principal struct {
	User    string // IAM user name (aws:username)
	ARN     string // arn:aws:iam::<account>:user/<user>
	Account string // account id
}

// value returns the value of a single-valued key, or false when the
// request has none. A nil rc has no keys.
func value(rc Context, id keyID, tagKey string) (ctxValue, bool) {
	var v ctxValue
	if rc == nil {
		return v, false
	}
	switch id {
	case keySourceIP:
		var ok bool
		v.ip, ok = rc.SourceIP()
		return v, ok
	case keySecureTransport:
		v.flag = rc.SecureTransport()
	case keyCurrentTime, keyEpochTime:
		v.num = float64(rc.Now().Unix())
	case keyUsername, keyUserID:
		// shardlog has no IAM unique ids: aws:userid is the user name too.
		v.str = rc.Principal().User
	case keyPrincipalARN:
		v.str = rc.Principal().ARN
	case keyPrincipalAccount:
		v.str = rc.Principal().Account
	case keyPrincipalType:
		v.str = "User"
	case keyRequestedRegion:
		v.str = rc.Region()
	case keyRequestTag:
		return tagValue(rc.RequestTags(), tagKey)
	case keyResourceTag:
		return tagValue(rc.ResourceTags(), tagKey)
	default:
		return v, false
	}
	return v, true
}
