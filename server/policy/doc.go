// Package policy compiles and evaluates IAM policy documents: the
// identity-based policy of an access key and the resource-based policy of
// a stream.
//
// It owns the policy language shardlog understands (policy.go: Effect,
// Action/NotAction, Resource/NotResource, Principal), the condition
// operators (condition.go) and the condition keys with what each reads of
// a request (condkeys.go). A Policy is compiled once (Parse,
// ParseResource, ParseStored) and evaluated per request without parsing
// (Evaluate); Cache holds the compiled resource policies of a server.
//
// What a request is made of (its caller, its connection, its tags, the
// tags of the resource judged) comes through the Context interface, which
// the server implements: this package imports no other shardlog package
// and knows nothing of streams, the wire format or signatures.
package policy
