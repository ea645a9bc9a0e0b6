package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A policy statement's Condition block, as IAM defines it:
//
//	"Condition": {"<operator>": {"<key>": <value or [values]>}, ...}
//
// Every operator of a block must hold, and every key under an operator;
// the values listed for one key are alternatives (any one may match). A
// negated operator (StringNotEquals, NotIpAddress, ...) holds when no value
// matches. When the request has no value for the key, the condition fails,
// except that a negated operator and any operator ending in IfExists hold,
// and Null tests exactly that absence. ForAnyValue: and ForAllValues:
// compare the set of values a multivalued key has (aws:TagKeys) with the
// policy's: some request value must match, or every one must (which holds
// for an empty or absent set).
//
// Blocks compile at policy load (parsePolicy), so an unknown operator or
// key, a value of the wrong type, a bad CIDR block or date refuses the
// policy instead of being misread per request. The keys are in
// condkeys.go.

// opKind is the family of a condition operator.
type opKind uint8

const (
	opString     opKind = iota + 1 // StringEquals, StringNotEquals
	opStringFold                   // StringEqualsIgnoreCase, StringNotEqualsIgnoreCase
	opStringLike                   // StringLike, StringNotLike: '*' and '?' wildcards
	opNumeric                      // Numeric*
	opDate                         // Date*
	opBool                         // Bool
	opIP                           // IpAddress, NotIpAddress
	opARN                          // ArnEquals, ArnLike, ArnNotEquals, ArnNotLike
	opNull                         // Null
)

// cmpKind is the comparison of a Numeric or Date operator.
type cmpKind uint8

const (
	cmpEq cmpKind = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// setKind is a condition's set qualifier.
type setKind uint8

const (
	setNone setKind = iota
	setAny          // ForAnyValue:
	setAll          // ForAllValues:
)

// opSpec is one base operator (without qualifier or IfExists).
type opSpec struct {
	name   string // as IAM spells it, for messages
	kind   opKind
	cmp    cmpKind
	negate bool
}

// operators maps a lower-case base operator name to its spec. It is
// read-only.
var operators = func() map[string]opSpec {
	m := map[string]opSpec{}
	add := func(name string, kind opKind, cmp cmpKind, negate bool) {
		m[strings.ToLower(name)] = opSpec{name: name, kind: kind, cmp: cmp, negate: negate}
	}
	add("StringEquals", opString, cmpEq, false)
	add("StringNotEquals", opString, cmpEq, true)
	add("StringEqualsIgnoreCase", opStringFold, cmpEq, false)
	add("StringNotEqualsIgnoreCase", opStringFold, cmpEq, true)
	add("StringLike", opStringLike, cmpEq, false)
	add("StringNotLike", opStringLike, cmpEq, true)
	add("Bool", opBool, cmpEq, false)
	add("IpAddress", opIP, cmpEq, false)
	add("NotIpAddress", opIP, cmpEq, true)
	add("ArnEquals", opARN, cmpEq, false)
	add("ArnLike", opARN, cmpEq, false)
	add("ArnNotEquals", opARN, cmpEq, true)
	add("ArnNotLike", opARN, cmpEq, true)
	add("Null", opNull, cmpEq, false)
	for _, f := range []struct {
		prefix string
		kind   opKind
	}{{"Numeric", opNumeric}, {"Date", opDate}} {
		add(f.prefix+"Equals", f.kind, cmpEq, false)
		add(f.prefix+"NotEquals", f.kind, cmpEq, true)
		add(f.prefix+"LessThan", f.kind, cmpLt, false)
		add(f.prefix+"LessThanEquals", f.kind, cmpLe, false)
		add(f.prefix+"GreaterThan", f.kind, cmpGt, false)
		add(f.prefix+"GreaterThanEquals", f.kind, cmpGe, false)
	}
	return m
}()

// condition is one compiled operator-key pair of a Condition block.
type condition struct {
	op       opSpec
	set      setKind
	ifExists bool
	key      *keySpec
	tagKey   string // the ${TagKey} of aws:RequestTag/ and aws:ResourceTag/

	strs     []string       // string, ARN: the values as written
	prefixes []netip.Prefix // IpAddress: bare addresses as /32 or /128
	nums     []float64      // Numeric; Date as Unix seconds
	bools    []bool         // Bool, Null
}

// compileConditions compiles a statement's Condition element. Errors name
// the operator and key.
func compileConditions(raw json.RawMessage) ([]condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, fmt.Errorf("Condition must map operators to {key: values} objects: %w", err)
	}
	var out []condition
	for _, opName := range slices.Sorted(maps.Keys(block)) {
		keys := block[opName]
		for _, keyName := range slices.Sorted(maps.Keys(keys)) {
			c, err := compileCondition(opName, keyName, keys[keyName])
			if err != nil {
				return nil, fmt.Errorf("Condition %s: %w", opName, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// compileCondition compiles one operator-key pair.
func compileCondition(opName, keyName string, raw json.RawMessage) (condition, error) {
	var c condition
	base := opName
	if q, rest, ok := strings.Cut(base, ":"); ok {
		switch strings.ToLower(q) {
		case "foranyvalue":
			c.set = setAny
		case "forallvalues":
			c.set = setAll
		default:
			return c, fmt.Errorf("unknown set qualifier %q (ForAnyValue or ForAllValues)", q)
		}
		base = rest
	}
	lower := strings.ToLower(base)
	if trimmed, ok := strings.CutSuffix(lower, "ifexists"); ok && trimmed != "null" {
		c.ifExists, lower = true, trimmed
	}
	op, ok := operators[lower]
	if !ok {
		return c, fmt.Errorf("unknown condition operator %q", opName)
	}
	c.op = op
	if op.kind == opNull && c.set != setNone {
		return c, errors.New("Null takes no set qualifier")
	}
	key, tagKey, err := lookupKey(keyName)
	if err != nil {
		return c, err
	}
	c.key, c.tagKey = key, tagKey
	if !key.accepts(op.kind) {
		return c, fmt.Errorf("operator %s does not apply to %s (%s)", op.name, key.name, key.typ)
	}
	if key.multi && c.set == setNone && op.kind != opNull {
		return c, fmt.Errorf("%s is multivalued: use ForAnyValue:%s or ForAllValues:%s", key.name, base, base)
	}
	vals, err := conditionValues(raw)
	if err != nil {
		return c, fmt.Errorf("%s: %w", keyName, err)
	}
	if err := c.compileValues(vals); err != nil {
		return c, fmt.Errorf("%s: %w", keyName, err)
	}
	return c, nil
}

// conditionValues reads a condition's value: a string, number or boolean,
// or a non-empty list of them, as text.
func conditionValues(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, errors.New("has no values")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch t := e.(type) {
		case string:
			if strings.Contains(t, "${") {
				return nil, fmt.Errorf("policy variables are not supported: %q", t)
			}
			out = append(out, t)
		case json.Number:
			out = append(out, t.String())
		case bool:
			out = append(out, strconv.FormatBool(t))
		default:
			return nil, errors.New("value must be a string, number or boolean, or a list of them")
		}
	}
	return out, nil
}

// compileValues parses the values for the operator's family.
func (c *condition) compileValues(vals []string) error {
	for _, v := range vals {
		switch c.op.kind {
		case opString, opStringFold, opStringLike:
			c.strs = append(c.strs, v)
		case opARN:
			if strings.Count(v, ":") < 5 {
				return fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", v)
			}
			c.strs = append(c.strs, v)
		case opIP:
			p, err := parseIPBlock(v)
			if err != nil {
				return err
			}
			c.prefixes = append(c.prefixes, p)
		case opNumeric:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", v)
			}
			c.nums = append(c.nums, n)
		case opDate:
			t, err := parseConditionDate(v)
			if err != nil {
				return err
			}
			c.nums = append(c.nums, float64(t.Unix()))
		case opBool, opNull:
			switch strings.ToLower(v) {
			case "true":
				c.bools = append(c.bools, true)
			case "false":
				c.bools = append(c.bools, false)
			default:
				return fmt.Errorf("%q is not true or false", v)
			}
		}
	}
	return nil
}

// parseIPBlock reads a CIDR block or a bare IPv4 or IPv6 address (a block
// of one).
func parseIPBlock(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, fmt.Errorf("%q is not a CIDR block", v)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// ::ffff:a.b.c.d/n is the IPv4 block a.b.c.d/(n-96); requests
			// from IPv4 clients are matched unmapped.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// conditionDateLayouts are the ISO 8601 forms a Date condition accepts.
var conditionDateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseConditionDate reads an ISO 8601 date (UTC unless it has an offset)
// or a number of seconds since the Unix epoch.
func parseConditionDate(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, layout := range conditionDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date or epoch time", v)
}

// holds reports whether every condition holds for the request. A nil rc
// has no keys at all.
func holds(conds []condition, rc Context) bool {
	for i := range conds {
		if !conds[i].holds(rc) {
			return false
		}
	}
	return true
}

// holds evaluates one condition.
func (c *condition) holds(rc Context) bool {
	if c.key.multi {
		var keys []string
		if rc != nil {
			keys = rc.TagKeys()
		}
		return c.holdsSet(keys)
	}
	v, present := value(rc, c.key.id, c.tagKey)
	switch {
	case c.op.kind == opNull:
		// Null true: the key must be absent; false: present.
		return slices.Contains(c.bools, !present)
	case !present:
		// With ForAllValues an absent key is an empty set, which passes.
		return c.ifExists || c.op.negate || c.set == setAll
	}
	return c.matches(&v) != c.op.negate
}

// holdsSet evaluates a condition on a multivalued key.
func (c *condition) holdsSet(vals []string) bool {
	if c.op.kind == opNull {
		return slices.Contains(c.bools, len(vals) == 0)
	}
	if len(vals) == 0 && c.ifExists {
		return true
	}
	for _, s := range vals {
		v := ctxValue{str: s}
		ok := c.matches(&v) != c.op.negate
		if c.set == setAny && ok {
			return true
		}
		if c.set == setAll && !ok {
			return false
		}
	}
	return c.set == setAll
}

// matches reports whether v matches any of the policy's values, before
// negation.
func (c *condition) matches(v *ctxValue) bool {
	switch c.op.kind {
	case opString:
		return slices.Contains(c.strs, v.str)
	case opStringFold:
		for _, s := range c.strs {
			if strings.EqualFold(s, v.str) {
				return true
			}
		}
	case opStringLike:
		for _, s := range c.strs {
			if wildcardMatch(s, v.str) {
				return true
			}
		}
	case opARN:
		for _, s := range c.strs {
			if arnMatch(s, v.str) {
				return true
			}
		}
	case opIP:
		for _, p := range c.prefixes {
			if p.Contains(v.ip) {
				return true
			}
		}
	case opBool:
		return slices.Contains(c.bools, v.flag)
	case opNumeric, opDate:
		for _, n := range c.nums {
			if compare(c.op.cmp, v.num, n) {
				return true
			}
		}
	}
	return false
}

// compare applies cmp to the request's value a and the policy's b.
func compare(cmp cmpKind, a, b float64) bool {
	switch cmp {
	case cmpLt:
		return a < b
	case cmpLe:
		return a <= b
	case cmpGt:
		return a > b
	case cmpGe:
		return a >= b
	}
	return a == b
}

// arnMatch matches an ARN against a pattern component by component (the
// six colon-separated parts), each with '*' and '?' wildcards that do not
// cross a colon; the last component takes the rest of the ARN.
func arnMatch(pattern, arn string) bool {
	for range 5 {
		pi, ai := strings.IndexByte(pattern, ':'), strings.IndexByte(arn, ':')
		if pi < 0 || ai < 0 || !wildcardMatch(pattern[:pi], arn[:ai]) {
			return false
		}
		pattern, arn = pattern[pi+1:], arn[ai+1:]
	}
	return wildcardMatch(pattern, arn)
}
