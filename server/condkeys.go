package server

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
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

// requestPeer is what the transport knows of the connection a request
// came on: the client's address and whether TLS protects it. It is set
// when the exchange is built and read only by conditions (aws:SourceIp,
// aws:SecureTransport), so building it costs no parsing.
type requestPeer struct {
	addr   net.Addr // fasthttp: the connection's remote address
	remote string   // net/http: Request.RemoteAddr, "ip:port"
	tls    bool
}

// ip returns the client's address, IPv4-mapped addresses unmapped, or
// false when the transport gave none.
func (p *requestPeer) ip() (netip.Addr, bool) {
	var a netip.Addr
	switch t := p.addr.(type) {
	case *net.TCPAddr:
		a, _ = netip.AddrFromSlice(t.IP)
	case nil:
		if ap, err := netip.ParseAddrPort(p.remote); err == nil {
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

// requestContext is what conditions test about one authorization: the
// request, its connection and its caller, and the resource being judged.
// It lives on the authorizing goroutine's stack for one request; values
// are computed only when a condition asks for them, so policies without
// conditions cost nothing.
type requestContext struct {
	s        *Server
	cred     *credential
	peer     requestPeer
	in       any    // the decoded request (request tags)
	resource string // the ARN being judged (resource tags)

	resourceTags       map[string]string
	resourceTagsLoaded bool
}

// forResource points rc at the next resource of the request.
func (rc *requestContext) forResource(resource string) {
	rc.resource, rc.resourceTags, rc.resourceTagsLoaded = resource, nil, false
}

// ctxValue is the value of a single-valued key, in the field its type uses.
type ctxValue struct {
	str  string
	ip   netip.Addr
	num  float64 // aws:CurrentTime and aws:EpochTime: Unix seconds
	flag bool
}

// value returns the value of a single-valued key, or false when the
// request has none. A nil rc has no keys.
func (rc *requestContext) value(id keyID, tagKey string) (ctxValue, bool) {
	var v ctxValue
	if rc == nil {
		return v, false
	}
	switch id {
	case keySourceIP:
		var ok bool
		v.ip, ok = rc.peer.ip()
		return v, ok
	case keySecureTransport:
		v.flag = rc.peer.tls
	case keyCurrentTime, keyEpochTime:
		v.num = float64(rc.s.opts.Now().Unix())
	case keyUsername, keyUserID:
		// shardlog has no IAM unique ids: aws:userid is the user name too.
		v.str = rc.cred.user
	case keyPrincipalARN:
		v.str = rc.cred.userARN
	case keyPrincipalAccount:
		v.str = rc.cred.account
	case keyPrincipalType:
		v.str = "User"
	case keyRequestedRegion:
		v.str = rc.s.store.Options().Region
	case keyRequestTag:
		return tagValue(rc.requestTags(), tagKey)
	case keyResourceTag:
		return tagValue(rc.loadResourceTags(), tagKey)
	default:
		return v, false
	}
	return v, true
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

// requestTags returns the Tags member of the request (CreateStream,
// AddTagsToStream, TagResource, RegisterStreamConsumer), or nil.
func (rc *requestContext) requestTags() map[string]string {
	if rc.in == nil {
		return nil
	}
	v := reflect.ValueOf(rc.in).Elem()
	f := fieldsOf(v.Type())
	if f.tags == nil {
		return nil
	}
	return v.FieldByIndex(f.tags).Interface().(map[string]string)
}

// tagKeys returns aws:TagKeys: the keys of the request's Tags, or its
// TagKeys member (RemoveTagsFromStream, UntagResource); nil when the
// request has neither.
func (rc *requestContext) tagKeys() []string {
	if rc == nil || rc.in == nil {
		return nil
	}
	if tags := rc.requestTags(); tags != nil {
		return slices.Collect(maps.Keys(tags))
	}
	v := reflect.ValueOf(rc.in).Elem()
	f := fieldsOf(v.Type())
	if f.tagKeys == nil {
		return nil
	}
	return v.FieldByIndex(f.tagKeys).Interface().([]string)
}

// loadResourceTags returns the tags of the stream or consumer rc.resource
// names, or nil when it names none that exists.
func (rc *requestContext) loadResourceTags() map[string]string {
	if rc.resourceTagsLoaded {
		return rc.resourceTags
	}
	rc.resourceTagsLoaded = true
	prefix := rc.s.store.StreamARN("")
	rest, ok := strings.CutPrefix(rc.resource, prefix)
	if !ok {
		return nil
	}
	name, _, _ := strings.Cut(rest, "/")
	st, err := rc.s.store.Stream(name)
	if err != nil {
		return nil
	}
	if _, consumer, isConsumer := splitConsumerARN(rc.resource); isConsumer {
		rc.resourceTags, _ = st.ConsumerTags(consumer)
	} else {
		rc.resourceTags = st.Tags()
	}
	return rc.resourceTags
}
