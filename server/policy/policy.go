package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Policy is a compiled IAM policy document: the identity-based policy of an
// access key, or a stream's resource-based policy. It is immutable and safe
// for concurrent use; compile it once (ParsePolicy) and evaluate it per
// request without parsing.
//
// Supported: Version, Statement (one object or a list), Sid, Effect
// (Allow/Deny), Action / NotAction and Resource / NotResource (a string or a
// list, with IAM's wildcards '*' and '?'; actions match case-insensitively,
// resources case-sensitively), Condition (condition.go: the String, Numeric,
// Date, Bool, IpAddress, Arn and Null operators, IfExists, ForAnyValue and
// ForAllValues, on the keys of condkeys.go), and in resource policies
// Principal ("*", or {"AWS": ARN, account id, or a list of them}).
// NotPrincipal and policy variables are refused.
type Policy struct {
	statements []statement
}

type statement struct {
	deny        bool
	actions     []string // lower case globs
	notAction   bool     // actions lists NotAction
	resources   []string // globs
	notResource bool     // resources lists NotResource
	principals  []string // resource policies: "*", account ids, ARNs
	conds       []condition
	// unevaluable marks a stored resource policy's statement whose
	// Condition does not compile (stored before conditions were checked at
	// PutResourcePolicy): as an Allow it never grants, as a Deny it always
	// applies, the safe reading of a condition we cannot check.
	unevaluable bool
}

// stringList is a JSON string or list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		return json.Unmarshal(b, (*[]string)(l))
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = stringList{s}
	return nil
}

type rawStatement struct {
	Sid          string
	Effect       string
	Action       stringList
	NotAction    stringList
	Resource     stringList
	NotResource  stringList
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Condition    json.RawMessage
}

// Parse compiles an identity-based policy document (the policy of an
// access key). Its errors say what is wrong, for config messages.
func Parse(doc []byte) (*Policy, error) { return parsePolicy(doc, policyIdentity) }

// ParseResource compiles a resource-based policy as PutResourcePolicy
// accepts it: a Principal is required, every Condition must compile.
func ParseResource(doc []byte) (*Policy, error) { return parsePolicy(doc, policyResource) }

// ParseStored compiles a resource-based policy read back from a stream: as
// ParseResource, but a statement whose Condition does not compile (stored
// before conditions were checked) is kept as unevaluable: as an Allow it
// never grants, as a Deny it always applies.
func ParseStored(doc []byte) (*Policy, error) { return parsePolicy(doc, policyStored) }

// policyKind selects the rules a document is compiled under.
type policyKind uint8

const (
	policyIdentity policyKind = iota // an access key's policy: no Principal
	policyResource                   // PutResourcePolicy: Principal required
	// policyStored is a resource policy read back from a stream: as
	// policyResource, but a Condition that does not compile marks its
	// statement unevaluable instead of failing the document.
	policyStored
)

// parsePolicy compiles a policy of the given kind.
func parsePolicy(doc []byte, kind policyKind) (*Policy, error) {
	var raw struct {
		Version   string
		Id        string
		Statement json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	var stmts []rawStatement
	switch t := bytes.TrimSpace(raw.Statement); {
	case len(t) == 0:
		return nil, errors.New("policy has no Statement")
	case t[0] == '[':
		if err := json.Unmarshal(t, &stmts); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	default:
		var one rawStatement
		if err := json.Unmarshal(t, &one); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
		stmts = []rawStatement{one}
	}
	p := &Policy{}
	for i, r := range stmts {
		st, err := compileStatement(r, kind)
		if err != nil {
			name := fmt.Sprintf("statement %d", i+1)
			if r.Sid != "" {
				name += " (" + r.Sid + ")"
			}
			return nil, fmt.Errorf("policy %s: %w", name, err)
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

func compileStatement(r rawStatement, kind policyKind) (statement, error) {
	var st statement
	switch r.Effect {
	case "Allow":
	case "Deny":
		st.deny = true
	default:
		return st, fmt.Errorf("Effect must be Allow or Deny, not %q", r.Effect)
	}
	switch {
	case len(r.Action) > 0 && len(r.NotAction) > 0:
		return st, errors.New("has both Action and NotAction")
	case len(r.Action) > 0:
		st.actions = lowerAll(r.Action)
	case len(r.NotAction) > 0:
		st.actions, st.notAction = lowerAll(r.NotAction), true
	default:
		return st, errors.New("has neither Action nor NotAction")
	}
	switch {
	case len(r.Resource) > 0 && len(r.NotResource) > 0:
		return st, errors.New("has both Resource and NotResource")
	case len(r.Resource) > 0:
		st.resources = r.Resource
	case len(r.NotResource) > 0:
		st.resources, st.notResource = r.NotResource, true
	default:
		return st, errors.New("has neither Resource nor NotResource")
	}
	if len(r.NotPrincipal) > 0 {
		return st, errors.New("NotPrincipal is not supported")
	}
	if len(r.Condition) > 0 {
		conds, err := compileConditions(r.Condition)
		switch {
		case err != nil && kind == policyStored:
			st.unevaluable = true
		case err != nil:
			return st, err
		}
		st.conds = conds
	}
	if kind != policyIdentity {
		ps, err := parsePrincipal(r.Principal)
		if err != nil {
			return st, err
		}
		st.principals = ps
	} else if len(r.Principal) > 0 {
		return st, errors.New("Principal is not allowed in an identity-based policy")
	}
	return st, nil
}

// parsePrincipal reads "*" or {"AWS": x or [x...]}; other principal types
// (Service, Federated) name nobody shardlog knows and are kept as
// unmatchable.
func parsePrincipal(b json.RawMessage) ([]string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("has no Principal")
	}
	var star string
	if json.Unmarshal(b, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("Principal must be \"*\" or an object, not %q", star)
		}
		return []string{"*"}, nil
	}
	var m map[string]stringList
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("Principal: %w", err)
	}
	return m["AWS"], nil
}

func lowerAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(s)
	}
	return out
}

// Decision is the outcome of evaluating a policy for one request.
type Decision uint8

// The decisions, weakest first.
const (
	ImplicitDeny Decision = iota // no statement matched
	Allowed
	ExplicitDeny
)

// Evaluate returns what p says about action (lower case, "kinesis:putrecords")
// on resource for the principal p (nil for identity policies: every
// statement applies). For a resource policy, principal is the caller's user
// ARN and account its account id. Conditions read rc, which may be nil (a
// request with no context keys).
func (p *Policy) Evaluate(action, resource string, principal *Principal, rc Context) Decision {
	if p == nil {
		return ImplicitDeny
	}
	d := ImplicitDeny
	for i := range p.statements {
		st := &p.statements[i]
		if st.matchesAny(st.actions, action) == st.notAction {
			continue
		}
		if st.matchesResource(resource) == st.notResource {
			continue
		}
		if principal != nil && !st.namesPrincipal(principal) {
			continue
		}
		if st.unevaluable {
			if st.deny {
				return ExplicitDeny
			}
			continue
		}
		if len(st.conds) > 0 && !holds(st.conds, rc) {
			continue
		}
		if st.deny {
			return ExplicitDeny
		}
		d = Allowed
	}
	return d
}

func (st *statement) matchesAny(globs []string, s string) bool {
	for _, g := range globs {
		if wildcardMatch(g, s) {
			return true
		}
	}
	return false
}

func (st *statement) matchesResource(resource string) bool {
	return st.matchesAny(st.resources, resource)
}

// namesPrincipal reports whether a resource-policy statement applies to c.
// "*" names everyone; the user's ARN names the user; the account (its id or
// root ARN) names every user of the account for a Deny only: an account
// principal delegates to the account's own identity policies, so it grants
// nothing by itself.
func (st *statement) namesPrincipal(c *Principal) bool {
	for _, p := range st.principals {
		switch {
		case p == "*" || p == c.ARN:
			return true
		case st.deny && (p == c.Account || p == "arn:aws:iam::"+c.Account+":root"):
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM glob: '*' any run, '?' one byte.
// It does not allocate and runs in O(len(g)·len(s)) at worst.
func wildcardMatch(g, s string) bool {
	gi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case gi < len(g) && (g[gi] == '?' || g[gi] == s[si]):
			gi++
			si++
		case gi < len(g) && g[gi] == '*':
			star, mark = gi, si
			gi++
		case star >= 0:
			gi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g)
}

// maxCached bounds a Cache: past it, the cache starts again empty.
const maxCached = 1024

// Cache holds the compiled resource policies of the streams, by document
// text, so a request does not compile the policy it is judged by. It is
// safe for concurrent use; a server creates its own.
type Cache struct {
	mu sync.Mutex
	m  map[string]*Policy
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: map[string]*Policy{}} }

// Stored returns doc compiled as a stored resource policy (ParseStored). A
// document that does not compile is an empty policy, which grants and
// denies nothing, returned with the error (once: it is cached as empty).
func (c *Cache) Stored(doc string) (*Policy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[doc]; ok {
		return p, nil
	}
	p, err := ParseStored([]byte(doc))
	if err != nil {
		p = &Policy{}
	}
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[doc] = p
	return p, err
}
