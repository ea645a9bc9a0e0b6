package server

import (
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
)

// Access control: with Auth.Mode "sigv4" every API request must carry a
// valid AWS Signature Version 4 (package sigv4) by one of Auth.Keys, and the
// key's identity policy, together with the resource policy of the stream
// the request touches, must allow the operation on its resource
// (package policy). The checks run in AWS's order: the signature in admit, after
// the method, content type and operation name are known (what the headers
// tell before the body is read, the comparison after); authorization in
// the operation wrapper, after decoding (the resource is in the body) and
// before validation.

// AuthMode selects request authentication.
type AuthMode string

const (
	// AuthNone verifies no signature and enforces no policy, but requires
	// credentials shaped like AWS's (sigv4.CheckShape) unless
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
