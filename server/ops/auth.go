package ops

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
	"github.com/shardlog/shardlog/server/wire"
)

// authorize checks that c may run operation op with the decoded request in
// (whose resource members are f), sent over the connection peer, on every
// resource it touches. A nil c (mode none) may do anything.
func (s *Service) authorize(c *sigv4.Credential, op *Operation, in any, f *resourceFields, peer policy.Peer) error {
	if c == nil {
		return nil
	}
	// The context goes to the policies as a policy.Context, which moves it
	// to the heap: it is pooled, so that a check costs no allocation.
	rc := requestContexts.Get().(*requestContext)
	defer func() {
		*rc = requestContext{}
		requestContexts.Put(rc)
	}()
	*rc = requestContext{s: s, cred: c, peer: peer, in: in, fields: f}
	for _, res := range s.resourcesOf(op.Name, in, f) {
		rc.forResource(res)
		if e := s.allowed(c, op, res, rc); e != nil {
			return e
		}
	}
	return nil
}

// requestContexts pools the contexts of authorize.
var requestContexts = sync.Pool{New: func() any { return new(requestContext) }}

// allowed evaluates the key's policy and the resource policy of the stream
// resource names, if any, with rc for their conditions: an explicit Deny in
// either wins, then an Allow in either grants (one account: IAM's
// same-account rule), else denied.
func (s *Service) allowed(c *sigv4.Credential, op *Operation, resource string, rc *requestContext) *wire.APIError {
	action, lower := op.Action, op.lowerAction
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

func (s *Service) accessDenied(c *sigv4.Credential, action, resource, why string) *wire.APIError {
	return &wire.APIError{Type: wire.AccessDenied, Message: "User: " + c.Principal.ARN + " is not authorized to perform: " + action + " on resource: " + resource + " " + why}
}

// resourcePolicy returns the compiled resource policy of the stream that
// resource (a stream or consumer ARN) belongs to, or nil. Compiled policies
// are cached by document text (Service.policies).
func (s *Service) resourcePolicy(resource string) *policy.Policy {
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
// naming a stream (wire.Tokens): GetRecords' ShardIterator, and the NextToken
// of ListShards and ListStreamConsumers. sealedStream opens the token (once
// per request: the operation reuses the result) and returns the stream it
// names; present is false when the request carries no token, and err is the
// operation's answer to a token that does not open.
type sealedRequest interface {
	sealedStream(s *Service) (stream string, present bool, err error)
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
func (s *Service) resourcesOf(op string, in any, f *resourceFields) []string {
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
func (s *Service) namedResources(op string, in any, f *resourceFields) []string {
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

// requestContext is what conditions test about one authorization: the
// request, its connection and its caller, and the resource being judged.
// It lives on the authorizing goroutine's stack for one request; values
// are computed only when a condition asks for them, so policies without
// conditions cost nothing.
type requestContext struct {
	s        *Service
	cred     *sigv4.Credential
	peer     policy.Peer
	in       any             // the decoded request (request tags)
	fields   *resourceFields // in's resource and tag members
	resource string          // the ARN being judged (resource tags)

	resourceTags       map[string]string
	resourceTagsLoaded bool
}

// forResource points rc at the next resource of the request.
func (rc *requestContext) forResource(resource string) {
	rc.resource, rc.resourceTags, rc.resourceTagsLoaded = resource, nil, false
}

// SourceIP implements policy.Context.
func (rc *requestContext) SourceIP() (netip.Addr, bool) { return rc.peer.IP() }

// SecureTransport implements policy.Context.
func (rc *requestContext) SecureTransport() bool { return rc.peer.TLS }

// Now implements policy.Context.
func (rc *requestContext) Now() time.Time { return rc.s.opts.Now() }

// Principal implements policy.Context.
func (rc *requestContext) Principal() *policy.Principal { return &rc.cred.Principal }

// Region implements policy.Context.
func (rc *requestContext) Region() string { return rc.s.store.Options().Region }

// RequestTags implements policy.Context: the Tags member of the request (CreateStream,
// AddTagsToStream, TagResource, RegisterStreamConsumer), or nil.
func (rc *requestContext) RequestTags() map[string]string {
	if rc.in == nil {
		return nil
	}
	v := reflect.ValueOf(rc.in).Elem()
	f := rc.fields
	if f.tags == nil {
		return nil
	}
	return v.FieldByIndex(f.tags).Interface().(map[string]string)
}

// TagKeys implements policy.Context, aws:TagKeys: the keys of the request's Tags, or its
// TagKeys member (RemoveTagsFromStream, UntagResource); nil when the
// request has neither.
func (rc *requestContext) TagKeys() []string {
	if rc == nil || rc.in == nil {
		return nil
	}
	if tags := rc.RequestTags(); tags != nil {
		return slices.Collect(maps.Keys(tags))
	}
	v := reflect.ValueOf(rc.in).Elem()
	f := rc.fields
	if f.tagKeys == nil {
		return nil
	}
	return v.FieldByIndex(f.tagKeys).Interface().([]string)
}

// ResourceTags implements policy.Context: the tags of the stream or consumer rc.resource
// names, or nil when it names none that exists.
func (rc *requestContext) ResourceTags() map[string]string {
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
