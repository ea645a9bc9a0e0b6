package server

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

// validator collects constraint violations in AWS's wording and order. Each
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
type validator struct {
	msgs []string
}

// fail records one violation: value is the value as AWS prints it, already
// quoted, or "null".
func (v *validator) fail(field, value, constraint string) {
	if len(v.msgs) >= maxValidationErrors {
		return
	}
	v.msgs = append(v.msgs, "Value "+value+" at '"+field+"' failed to satisfy constraint: "+constraint)
}

// err returns the ValidationException for the recorded violations, or nil.
func (v *validator) err() error {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return &APIError{Type: errValidation, Message: "1 validation error detected: " + v.msgs[0]}
	}
	return &APIError{Type: errValidation, Message: strconv.Itoa(len(v.msgs)) + " validation errors detected: " + strings.Join(v.msgs, "; ")}
}

// notNull checks that a required member is present.
func (v *validator) notNull(field string, present bool) {
	if !present {
		v.fail(field, "null", "Member must not be null")
	}
}

// str checks an optional string member: its length in characters in
// [minLen, maxLen] (maxLen < 0: unbounded) and, when re is not nil, that it
// matches re, whose source is the pattern AWS prints. A nil s passes.
func (v *validator) str(field string, s *string, minLen, maxLen int, re *regexp.Regexp) {
	if s == nil {
		return
	}
	if re != nil && !re.MatchString(*s) {
		v.fail(field, quote(*s), "Member must satisfy regular expression pattern: "+patternOf(re))
	}
	n := utf8.RuneCountInString(*s)
	if n < minLen {
		v.fail(field, quote(*s), "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	}
	if maxLen >= 0 && n > maxLen {
		v.fail(field, quote(*s), "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// blob checks the length of a present blob member (AWS prints blobs as a
// Java ByteBuffer).
func (v *validator) blob(field string, b []byte, maxLen int) {
	if b != nil && len(b) > maxLen {
		n := strconv.Itoa(len(b))
		v.fail(field, "'java.nio.HeapByteBuffer[pos=0 lim="+n+" cap="+n+"]'", "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// intRange checks an optional integer member lies in [lo, hi].
func (v *validator) intRange(field string, n *int, lo, hi int) {
	if n == nil {
		return
	}
	if *n < lo {
		v.fail(field, quote(strconv.Itoa(*n)), "Member must have value greater than or equal to "+strconv.Itoa(lo))
	}
	if *n > hi {
		v.fail(field, quote(strconv.Itoa(*n)), "Member must have value less than or equal to "+strconv.Itoa(hi))
	}
}

// listLen checks the number of elements of a present list member.
func (v *validator) listLen(field string, n int, present bool, minLen, maxLen int, show func() string) {
	if !present {
		return
	}
	if n < minLen {
		v.fail(field, quote(show()), "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	}
	if n > maxLen {
		v.fail(field, quote(show()), "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
}

// enum checks an optional member is one of allowed, printed in that order.
func (v *validator) enum(field string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.fail(field, quote(*s), "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// mapLen checks the number of entries of a present map member; AWS prints
// the map as Java does ("{k1=v1, k2=v2}", here in key order).
func (v *validator) mapLen(field string, m map[string]string, present bool, minLen, maxLen int) {
	v.listLen(field, len(m), present, minLen, maxLen, func() string { return showMap(m) })
}

// mapEntries checks the length in characters of every key of a map member
// against [keyMin, keyMax] and of every value against [valMin, valMax], as
// AWS does: one violation for the keys and one for the values, naming the
// whole map.
func (v *validator) mapEntries(field string, m map[string]string, keyMin, keyMax, valMin, valMax int) {
	keysOK, valuesOK := true, true
	for k, val := range m {
		keysOK = keysOK && lenWithin(k, keyMin, keyMax)
		valuesOK = valuesOK && lenWithin(val, valMin, valMax)
	}
	if !keysOK {
		v.fail(field, quote(showMap(m)), "Map keys must satisfy constraint: "+lengthConstraints(keyMin, keyMax))
	}
	if !valuesOK {
		v.fail(field, quote(showMap(m)), "Map value must satisfy constraint: "+lengthConstraints(valMin, valMax))
	}
}

// members checks the length in characters of every element of a string list
// member against [minLen, maxLen], naming the whole list, as AWS does.
func (v *validator) members(field string, list []string, minLen, maxLen int) {
	for _, s := range list {
		if !lenWithin(s, minLen, maxLen) {
			v.fail(field, quote(showList(list)), "Member must satisfy constraint: "+lengthConstraints(minLen, maxLen))
			return
		}
	}
}

// membersEnum checks every element of a string list member is one of
// allowed, printed in that order.
func (v *validator) membersEnum(field string, list []string, allowed ...string) {
	for _, s := range list {
		if !slices.Contains(allowed, s) {
			v.fail(field, quote(showList(list)), "Member must satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]]")
			return
		}
	}
}

func lenWithin(s string, minLen, maxLen int) bool {
	n := utf8.RuneCountInString(s)
	return n >= minLen && n <= maxLen
}

// lengthConstraints is AWS's bracketed pair of length constraints.
func lengthConstraints(minLen, maxLen int) string {
	return "[Member must have length less than or equal to " + strconv.Itoa(maxLen) +
		", Member must have length greater than or equal to " + strconv.Itoa(minLen) + "]"
}

// showItems prints n items as Java prints a collection, between open and
// close and joined by ", ". It stops once past maxQuotedBytes: quote cuts
// the text there, so a million-element value costs no more than a short one.
func showItems(open, close byte, n int, item func(i int) string) string {
	var b strings.Builder
	b.WriteByte(open)
	for i := 0; i < n && b.Len() <= maxQuotedBytes; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(item(i))
	}
	b.WriteByte(close)
	return b.String()
}

// showList prints a list as Java does: "[a, b]".
func showList(list []string) string {
	return showItems('[', ']', len(list), func(i int) string { return truncate(list[i], maxQuotedBytes) })
}

// showMap prints a map as Java does, "{k1=v1, k2=v2}", in key order so the
// message is deterministic.
func showMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	return showItems('{', '}', len(keys), func(i int) string {
		return truncate(keys[i], maxQuotedBytes) + "=" + truncate(m[keys[i]], maxQuotedBytes)
	})
}

// streamName checks the StreamName member.
func (v *validator) streamName(field string, name *string) {
	if name != nil && len(*name) >= 1 && len(*name) <= 128 && isStreamName(*name) {
		return // the common case, without the regexp (every data-plane request names a stream)
	}
	v.str(field, name, 1, 128, streamNamePattern)
}

// isStreamName reports whether s matches streamNamePattern.
func isStreamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// streamARN checks the StreamARN member.
func (v *validator) streamARN(field string, arn *string) {
	v.str(field, arn, 1, 2048, streamARNPattern)
}

// maxQuotedBytes bounds a client value quoted in an error message: AWS
// quotes values in its messages, and a value can be megabytes long. Every
// value of a legal shape (a 512-character iterator, a 256-character key)
// is quoted whole.
const maxQuotedBytes = 1 << 10

// quote quotes a client value for a message, cut to maxQuotedBytes.
func quote(s string) string { return "'" + truncate(s, maxQuotedBytes) + "'" }

// Patterns of the Kinesis service model. They are anchored for matching;
// patternOf prints them as AWS does, without the anchors.
var (
	streamNamePattern     = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	streamARNPattern      = regexp.MustCompile(`^(?:arn:aws.*:kinesis:.*:\d{12}:stream/\S+)$`)
	shardIDPattern        = regexp.MustCompile(`^(?:[a-zA-Z0-9_.-]+)$`)
	hashKeyPattern        = regexp.MustCompile(`^(?:0|([1-9]\d{0,38}))$`)
	sequenceNumberPattern = regexp.MustCompile(`^(?:0|([1-9]\d{0,128}))$`)
)

// patternOf returns the pattern AWS prints for an anchored model pattern.
func patternOf(re *regexp.Regexp) string {
	p := re.String()
	return p[len("^(?:") : len(p)-len(")$")]
}
