package server

import (
	"reflect"
	"slices"
	"strings"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"

	"github.com/shardlog/shardlog/server/wire"
)

// Access control: with Auth.Mode "sigv4" every API request must carry a
// valid AWS Signature Version 4 (sigv4.go) by one of Auth.Keys, and the
// key's identity policy, together with the resource policy of the stream
// the request touches, must allow the operation on its resource
// (policy.go). The checks run in AWS's order: the signature in admit, after
// the method, content type and operation name are known (what the headers
// tell before the body is read, the comparison after); authorization in
// the operation wrapper, after decoding (the resource is in the body) and
// before validation.

// AuthMode selects request authentication.
type AuthMode string

const (
	// AuthNone verifies no signature and enforces no policy, but requires
	// credentials shaped like AWS's (authform.go) unless
	// Auth.AcceptUnsigned, as AWS refuses a request without them.
	AuthNone AuthMode = "none"
	// AuthSigV4 verifies AWS Signature Version 4 and enforces policies.
	AuthSigV4 AuthMode = "sigv4"
)

// Auth configures access control. The zero value is AuthNone.
type Auth struct {
	// Mode is AuthNone (default, also "") or AuthSigV4.
	Mode AuthMode
	// Keys are the access keys accepted under AuthSigV4.
	Keys []AuthKey
	// AcceptUnsigned, under AuthNone only, accepts requests without an
	// Authorization header or presigned query, or with a malformed one
	// (for curl). Off, such requests get AWS's
	// MissingAuthenticationTokenException or IncompleteSignatureException.
	AcceptUnsigned bool
}

// Secret is a secret string: it formats and marshals as "REDACTED", so a
// key logged by accident shows nothing.
type Secret = sigv4.Secret

// AuthKey is one access key: its id and secret, the IAM user it stands for
// (in ARNs and AccessDenied messages; default: the access key id) and its
// compiled identity policy (nil allows nothing).
type AuthKey struct {
	AccessKeyID     string
	SecretAccessKey Secret
	// SessionToken, when set, makes this a temporary credential: requests
	// must carry it in X-Amz-Security-Token (as SDKs do for SSO or assumed
	// role credentials), and requests without it are refused. A key
	// without one refuses requests that carry a token.
	SessionToken Secret
	User         string
	Policy       *policy.Policy
}

// Policy is a compiled IAM policy document (package policy).
type Policy = policy.Policy

// ParsePolicy compiles an identity-based policy document, the policy of an
// access key (policy.Parse).
func ParsePolicy(doc []byte) (*Policy, error) { return policy.Parse(doc) }

func newKeyring(a Auth, account string) *sigv4.Keyring {
	on := a.Mode == AuthSigV4
	kr := &sigv4.Keyring{SigV4: on, Unsigned: !on && a.AcceptUnsigned, Keys: make(map[string]*sigv4.Credential, len(a.Keys))}
	for _, k := range a.Keys {
		user := k.User
		if user == "" {
			user = k.AccessKeyID
		}
		kr.Keys[k.AccessKeyID] = &sigv4.Credential{
			ID:           k.AccessKeyID,
			Secret:       k.SecretAccessKey,
			SessionToken: k.SessionToken,
			Principal:    policy.Principal{User: user, ARN: "arn:aws:iam::" + account + ":user/" + user, Account: account},
			Policy:       k.Policy,
		}
	}
	return kr
}

// SetAuth replaces the access control settings; requests already verified
// finish under the old ones. It is safe for concurrent use (SIGHUP reload).
func (s *Server) SetAuth(a Auth) {
	s.auth.Store(newKeyring(a, s.store.Options().AccountID))
}

// sigv4On reports whether requests must be signed.
func (s *Server) sigv4On() bool {
	kr := s.auth.Load()
	return kr != nil && kr.SigV4
}

// authorize checks that c may run operation op with the decoded request in
// (whose resource members are f), sent over the connection peer, on every
// resource it touches. A nil c (mode none) may do anything.
func (s *Server) authorize(c *sigv4.Credential, op *operation, in any, f *resourceFields, peer policy.Peer) error {
	if c == nil {
		return nil
	}
	rc := requestContext{s: s, cred: c, peer: peer, in: in, fields: f}
	for _, res := range s.resourcesOf(op.name, in, f) {
		rc.forResource(res)
		if e := s.allowed(c, op, res, &rc); e != nil {
			return e
		}
	}
	return nil
}

// allowed evaluates the key's policy and the resource policy of the stream
// resource names, if any, with rc for their conditions: an explicit Deny in
// either wins, then an Allow in either grants (one account: IAM's
// same-account rule), else denied.
func (s *Server) allowed(c *sigv4.Credential, op *operation, resource string, rc *requestContext) *wire.APIError {
	action, lower := op.action, op.lowerAction
	id := c.Policy.Evaluate(lower, resource, nil, rc)
	if id == policy.ExplicitDeny {
		return s.accessDenied(c, action, resource, "with an explicit deny in an identity-based policy")
	}
	rd := policy.ImplicitDeny
	if rp := s.resourcePolicy(resource); rp != nil {
		rd = rp.Evaluate(lower, resource, &c.Principal, rc)
	}
	switch {
	case rd == policy.ExplicitDeny:
		return s.accessDenied(c, action, resource, "with an explicit deny in a resource-based policy")
	case id == policy.Allowed || rd == policy.Allowed:
		return nil
	}
	return s.accessDenied(c, action, resource, "because no identity-based policy allows the "+action+" action")
}

func (s *Server) accessDenied(c *sigv4.Credential, action, resource, why string) *wire.APIError {
	return &wire.APIError{Type: wire.AccessDenied, Message: "User: " + c.Principal.ARN + " is not authorized to perform: " + action + " on resource: " + resource + " " + why}
}

// resourcePolicy returns the compiled resource policy of the stream that
// resource (a stream or consumer ARN) belongs to, or nil. Compiled policies
// are cached by document text (Server.policies).
func (s *Server) resourcePolicy(resource string) *policy.Policy {
	prefix := s.store.StreamARN("")
	if !strings.HasPrefix(resource, prefix) {
		return nil
	}
	name, _, _ := strings.Cut(resource[len(prefix):], "/")
	st, err := s.store.Stream(name)
	if err != nil {
		return nil
	}
	doc := st.ResourcePolicy()
	if doc == "" {
		return nil
	}
	p, err := s.policies.Stored(doc)
	if err != nil {
		// A document stored before PutResourcePolicy compiled documents,
		// which we cannot read, grants nothing and denies nothing; the
		// identity policy decides.
		s.log.Warn().Err(err).Str("stream", name).Msg("resource policy not enforced")
	}
	return p
}

// resourceFields are the request members that name a resource, and the
// tag members conditions read (aws:RequestTag/, aws:TagKeys), by Go field
// index, per request type.
type resourceFields struct {
	streamName, streamARN, consumerARN, consumerName, resourceARN []int
	tags, tagKeys                                                 []int
}

// fieldsOf finds the resource fields of request type t. It runs once per
// operation, when the operation table is built.
func fieldsOf(t reflect.Type) *resourceFields {
	f := &resourceFields{}
	typed := func(name string, want reflect.Type) []int {
		if sf, ok := t.FieldByName(name); ok && sf.Type == want {
			return sf.Index
		}
		return nil
	}
	idx := func(name string) []int { return typed(name, reflect.TypeFor[*string]()) }
	f.streamName, f.streamARN = idx("StreamName"), idx("StreamARN")
	f.consumerARN, f.consumerName = idx("ConsumerARN"), idx("ConsumerName")
	f.resourceARN = idx("ResourceARN")
	f.tags = typed("Tags", reflect.TypeFor[map[string]string]())
	f.tagKeys = typed("TagKeys", reflect.TypeFor[[]string]())
	return f
}

func stringField(v reflect.Value, index []int) string {
	if index == nil {
		return ""
	}
	p := v.FieldByIndex(index).Interface().(*string)
	if p == nil {
		return ""
	}
	return *p
}

// sealedRequest is implemented by the requests that carry a sealed token
// naming a stream (seal.go): GetRecords' ShardIterator, and the NextToken
// of ListShards and ListStreamConsumers. sealedStream opens the token (once
// per request: the operation reuses the result) and returns the stream it
// names; present is false when the request carries no token, and err is the
// operation's answer to a token that does not open.
type sealedRequest interface {
	sealedStream(s *Server) (stream string, present bool, err error)
}

// resourcesOf names the resource ARN(s) an operation is judged on, as AWS
// documents per action: the stream for stream operations (by StreamARN, or
// StreamName in this region and account), the consumer for consumer
// operations and SubscribeToShard, the ResourceARN for tagging and resource
// policies, and "*" for account-level operations (ListStreams,
// DescribeLimits, ...).
//
// A request carrying a sealed token is also judged on the stream inside it
// (GetRecords on the iterator's stream, a ListShards page on the stream
// being listed), since the token is what the operation acts on. A token
// that does not open names no resource and never stands for "*": the
// request is judged on what else it names, or on nothing when it names
// nothing else, and the operation then rejects the token before reading
// anything.
func (s *Server) resourcesOf(op string, in any, f *resourceFields) []string {
	var sealed string
	unopened := false
	if r, ok := in.(sealedRequest); ok {
		if stream, present, err := r.sealedStream(s); present && err != nil {
			unopened = true
		} else if present {
			sealed = s.store.StreamARN(stream)
		}
	}
	named := s.namedResources(op, in, f)
	switch {
	case sealed != "" && !slices.Contains(named, sealed):
		return append(named, sealed)
	case named != nil:
		return named
	case unopened:
		return nil
	}
	return []string{"*"}
}

// namedResources is the resource the members of in name, or nil when they
// name none.
func (s *Server) namedResources(op string, in any, f *resourceFields) []string {
	v := reflect.ValueOf(in).Elem()
	if arn := stringField(v, f.consumerARN); arn != "" {
		return []string{arn}
	}
	if arn := stringField(v, f.resourceARN); arn != "" {
		return []string{arn}
	}
	stream := stringField(v, f.streamARN)
	if stream == "" {
		if name := stringField(v, f.streamName); name != "" {
			stream = s.store.StreamARN(name)
		}
	}
	if stream == "" {
		return nil
	}
	// DescribeStreamConsumer and DeregisterStreamConsumer may name the
	// consumer by stream and name: judge them on the registered consumer's
	// ARN (it ends in a creation time), or on the ARN without one when there
	// is no such consumer.
	if name := stringField(v, f.consumerName); name != "" && op != "RegisterStreamConsumer" {
		if _, c, err := s.consumerFor(nil, &name, &stream); err == nil {
			return []string{c.ARN}
		}
		return []string{stream + "/consumer/" + name}
	}
	return []string{stream}
}
