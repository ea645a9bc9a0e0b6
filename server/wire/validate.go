package wire

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxValidationErrors is how many constraint violations AWS lists at most.
const maxValidationErrors = 10

// Validator collects constraint violations in AWS's wording and order. Each
// operation checks its members in the order AWS does (the order of the
// service model, which kinesalite's validations/*.js mirror), then calls err.
// Validation runs before any resource lookup.
//
// Field names are the wire member names with a lower-case first letter; list
// members are "records.3.member.partitionKey" (1-based). A method is a no-op
// once maxValidationErrors violations are recorded.
//
//	var v validator
//	v.notNull("shardIterator", in.ShardIterator != nil)
//	v.intRange("limit", in.Limit, 1, 10000)
//	if err := v.err(); err != nil {
//		return nil, err
//	}
type Validator struct {
	msgs []string
}

// Fail records one violation: value is the value as AWS prints it, already
// quoted, or "null".
func (v *Validator) Fail(field, value, constraint string) {
	if len(v.msgs) >= maxValidationErrors {
		return
	}
	v.msgs = append(v.msgs, "Value "+value+" at '"+field+"' failed to satisfy constraint: "+constraint)
}

// Err returns the ValidationException for the recorded violations, or nil.
func (v *Validator) Err() error {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return &APIError{Type: Validation, Message: "1 validation error detected: " + v.msgs[0]}
	}
	return &APIError{Type: Validation, Message: strconv.Itoa(len(v.msgs)) + " validation errors detected: " + strings.Join(v.msgs, "; ")}
}

// NotNull checks that a required member is present.
func (v *Validator) NotNull(field string, present bool) {
	if !present {
		v.Fail(field, "null", "Member must not be null")
	}
}

// Str checks an optional string member: its length in characters in
// [minLen, maxLen] (maxLen < 0: unbounded) and, when re is not nil, that it
// matches re, whose source is the pattern AWS prints. A nil s passes.
func (v *Validator) Str(field string, s *string, minLen, maxLen int, re *regexp.Regexp) {
	if s == nil {
		return
	}
	if re != nil && !re.MatchString(*s) {
		v.Fail(field, Quote(*s), "Member must satisfy regular expression pattern: "+PatternOf(re))
	}
	n := utf8.RuneCountInString(*s)
	if n < minLen {
		v.Fail(field, Quote(*s), "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	}
	if maxLen >= 0 && n > maxLen {
		v.Fail(field, Quote(*s), "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// Blob checks the length of a present blob member (AWS prints blobs as a
// Java ByteBuffer).
func (v *Validator) Blob(field string, b []byte, maxLen int) {
	if b != nil && len(b) > maxLen {
		n := strconv.Itoa(len(b))
		v.Fail(field, "'java.nio.HeapByteBuffer[pos=0 lim="+n+" cap="+n+"]'", "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// IntRange checks an optional integer member lies in [lo, hi].
func (v *Validator) IntRange(field string, n *int, lo, hi int) {
	if n == nil {
		return
	}
	if *n < lo {
		v.Fail(field, Quote(strconv.Itoa(*n)), "Member must have value greater than or equal to "+strconv.Itoa(lo))
	}
	if *n > hi {
		v.Fail(field, Quote(strconv.Itoa(*n)), "Member must have value less than or equal to "+strconv.Itoa(hi))
	}
}

// ListLen checks the number of elements of a present list member.
func (v *Validator) ListLen(field string, n int, present bool, minLen, maxLen int, show func() string) {
	if !present {
		return
	}
	if n < minLen {
		v.Fail(field, Quote(show()), "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	}
	if n > maxLen {
		v.Fail(field, Quote(show()), "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// Enum checks an optional member is one of allowed, printed in that order.
func (v *Validator) Enum(field string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.Fail(field, Quote(*s), "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// MapLen checks the number of entries of a present map member; AWS prints
// the map as Java does ("{k1=v1, k2=v2}", here in key order).
func (v *Validator) MapLen(field string, m map[string]string, present bool, minLen, maxLen int) {
	v.ListLen(field, len(m), present, minLen, maxLen, func() string { return ShowMap(m) })
}

// MapEntries checks the length in characters of every key of a map member
// against [keyMin, keyMax] and of every value against [valMin, valMax], as
// AWS does: one violation for the keys and one for the values, naming the
// whole map.
func (v *Validator) MapEntries(field string, m map[string]string, keyMin, keyMax, valMin, valMax int) {
	keysOK, valuesOK := true, true
	for k, val := range m {
		keysOK = keysOK && LenWithin(k, keyMin, keyMax)
		valuesOK = valuesOK && LenWithin(val, valMin, valMax)
	}
	if !keysOK {
		v.Fail(field, Quote(ShowMap(m)), "Map keys must satisfy constraint: "+LengthConstraints(keyMin, keyMax))
	}
	if !valuesOK {
		v.Fail(field, Quote(ShowMap(m)), "Map value must satisfy constraint: "+LengthConstraints(valMin, valMax))
	}
}

// Members checks the length in characters of every element of a string list
// member against [minLen, maxLen], naming the whole list, as AWS does.
func (v *Validator) Members(field string, list []string, minLen, maxLen int) {
	for _, s := range list {
		if !LenWithin(s, minLen, maxLen) {
			v.Fail(field, Quote(ShowList(list)), "Member must satisfy constraint: "+LengthConstraints(minLen, maxLen))
			return
		}
	}
}

// MembersEnum checks every element of a string list member is one of
// allowed, printed in that order.
func (v *Validator) MembersEnum(field string, list []string, allowed ...string) {
	for _, s := range list {
		if !slices.Contains(allowed, s) {
			v.Fail(field, Quote(ShowList(list)), "Member must satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]]")
			return
		}
	}
}

// LenWithin reports whether s has between minLen and maxLen characters.
func LenWithin(s string, minLen, maxLen int) bool {
	n := utf8.RuneCountInString(s)
	return n >= minLen && n <= maxLen
}

// LengthConstraints is AWS's bracketed pair of length constraints.
func LengthConstraints(minLen, maxLen int) string {
	return "[Member must have length less than or equal to " + strconv.Itoa(maxLen) +
		", Member must have length greater than or equal to " + strconv.Itoa(minLen) + "]"
}

// ShowItems prints n items as Java prints a collection, between open and
// close and joined by ", ". It stops once past maxQuotedBytes: quote cuts
// the text there, so a million-element value costs no more than a short one.
func ShowItems(open, close byte, n int, item func(i int) string) string {
	var b strings.Builder
	b.WriteByte(open)
	for i := 0; i < n && b.Len() <= MaxQuotedBytes; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(item(i))
	}
	b.WriteByte(close)
	return b.String()
}

// ShowList prints a list as Java does: "[a, b]".
func ShowList(list []string) string {
	return ShowItems('[', ']', len(list), func(i int) string { return Truncate(list[i], MaxQuotedBytes) })
}

// ShowMap prints a map as Java does, "{k1=v1, k2=v2}", in key order so the
// message is deterministic.
func ShowMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	return ShowItems('{', '}', len(keys), func(i int) string {
		return Truncate(keys[i], MaxQuotedBytes) + "=" + Truncate(m[keys[i]], MaxQuotedBytes)
	})
}

// StreamName checks the StreamName member.
func (v *Validator) StreamName(field string, name *string) {
	if name != nil && len(*name) >= 1 && len(*name) <= 128 && IsStreamName(*name) {
		return // the common case, without the regexp (every data-plane request names a stream)
	}
	v.Str(field, name, 1, 128, StreamNamePattern)
}

// IsStreamName reports whether s matches streamNamePattern.
func IsStreamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// StreamARN checks the StreamARN member.
func (v *Validator) StreamARN(field string, arn *string) {
	v.Str(field, arn, 1, 2048, StreamARNPattern)
}

// MaxQuotedBytes bounds a client value quoted in an error message: AWS
// quotes values in its messages, and a value can be megabytes long. Every
// value of a legal shape (a 512-character iterator, a 256-character key)
// is quoted whole.
const MaxQuotedBytes = 1 << 10

// Quote quotes a client value for a message, cut to maxQuotedBytes.
func Quote(s string) string { return "'" + Truncate(s, MaxQuotedBytes) + "'" }

// Patterns of the Kinesis service model. They are anchored for matching;
// patternOf prints them as AWS does, without the anchors.
var (
	StreamNamePattern     = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	StreamARNPattern      = regexp.MustCompile(`^(?:arn:aws.*:kinesis:.*:\d{12}:stream/\S+)$`)
	ShardIDPattern        = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	HashKeyPattern        = regexp.MustCompile(`^(?:0|([1-9]\d{0,38}))$`)
	SequenceNumberPattern = regexp.MustCompile(`^(?:0|([1-9]\d{0,128}))$`)
)

// PatternOf returns the pattern AWS prints for an anchored model pattern.
func PatternOf(re *regexp.Regexp) string {
	p := re.String()
	return p[len("^(?:") : len(p)-len(")$")]
}

// Patterns of the consumer members of the service model.
var (
	ConsumerNamePattern = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	ConsumerARNMember   = regexp.MustCompile(`^(?:^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+)$`)
)

// ConsumerName checks a ConsumerName member.
func (v *Validator) ConsumerName(field string, name *string) {
	v.Str(field, name, 1, 128, ConsumerNamePattern)
}

// ConsumerARN checks a ConsumerARN member.
func (v *Validator) ConsumerARN(field string, arn *string) {
	v.Str(field, arn, 1, 2048, ConsumerARNMember)
}

// ResourceARNPattern is the ResourceARN member (TagResource,
// PutResourcePolicy, ...): any Kinesis resource ARN.
var ResourceARNPattern = regexp.MustCompile(`^(?:arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+)$`)

// ResourceARN checks a ResourceARN member.
func (v *Validator) ResourceARN(field string, arn *string) {
	v.Str(field, arn, 1, 2048, ResourceARNPattern)
}
