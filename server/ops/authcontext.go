package ops

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
)

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
