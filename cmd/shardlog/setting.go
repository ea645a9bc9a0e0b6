package main

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// setting declares one configuration key. Every layer is derived from it:
//
//	YAML key      storage.segment_bytes         (key: sections joined by dots)
//	environment   SHARDLOG_STORAGE_SEGMENT_BYTES (envName)
//	flag          --storage.segment-bytes        (flagName)
//
// so that adding a row to settings() adds the key to the file, the
// environment, the flags, `config check`, the SIGHUP reload and the tests
// that iterate over the table. Values from the environment and flags are
// parsed as YAML, as in the file: 30s, 1048576, true, [a, b].
type setting struct {
	key   string // dotted YAML path, snake_case
	usage string // one line, for --help
	typ   string // value type shown in --help: string, int, bool, duration, ...
	// live says that SIGHUP applies a change without a restart.
	live bool

	ptr        func(c *config) any    // pointer to the value in c, to decode into
	get        func(c *config) any    // the value in c
	setDefault func(c *config)        // writes the default into c
	copyTo     func(dst, src *config) // copies the value from src to dst
	check      func(c *config) error  // the value's reason to be refused, or nil
}

// envPrefix starts every environment variable of a setting.
const envPrefix = "SHARDLOG_"

// envName is the environment variable of the setting.
func (s setting) envName() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// flagName is the long flag of the setting: its key in kebab-case,
// sections still joined by dots (--storage.segment-bytes).
func (s setting) flagName() string { return strings.ReplaceAll(s.key, "_", "-") }

// check is a validation of one value of type T; it may read the rest of
// the configuration for checks that relate two keys.
type check[T any] func(c *config, v T) error

// declare makes the setting key over the field that field returns, with
// default def and the given checks, run in order.
func declare[T any](key string, field func(*config) *T, def T, usage string, checks ...check[T]) setting {
	return setting{
		key:        key,
		usage:      usage,
		typ:        typeName[T](),
		ptr:        func(c *config) any { return field(c) },
		get:        func(c *config) any { return *field(c) },
		setDefault: func(c *config) { *field(c) = def },
		copyTo:     func(dst, src *config) { *field(dst) = *field(src) },
		check: func(c *config) error {
			for _, ch := range checks {
				if err := ch(c, *field(c)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// liveOnReload marks s as applied by SIGHUP without a restart.
func liveOnReload(s setting) setting {
	s.live = true
	return s
}

// typeName names T for --help.
func typeName[T any]() string {
	var zero T
	switch any(zero).(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int64:
		return "int"
	case float64:
		return "float"
	case interface{ Seconds() float64 }:
		return "duration"
	default:
		return "yaml"
	}
}

// keyError is a refused value: the key it names (possibly inside a
// setting, auth.keys[0].policy) and why.
type keyError struct {
	key  string
	line int // in the YAML document; 0 when unknown
	err  error
}

func (e *keyError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: key %s: %v", e.line, e.key, e.err)
	}
	return fmt.Sprintf("key %s: %v", e.key, e.err)
}
func (e *keyError) Unwrap() error { return e.err }

// invalid is the reason for a refused value v: "invalid value V: want".
func invalid(v any, want string) error {
	if s, ok := v.(string); ok {
		v = fmt.Sprintf("%q", s)
	}
	return fmt.Errorf("invalid value %v: %s", v, want)
}

// validate runs the check of s on c and names the key in the error.
func (s setting) validate(c *config) error {
	err := s.check(c)
	if err == nil {
		return nil
	}
	var ke *keyError
	if errors.As(err, &ke) {
		return err
	}
	return &keyError{key: s.key, err: err}
}

// decodeInto parses the YAML node n into the setting's field of c. Type
// errors name the key; errors that name a key inside the setting
// (auth.keys[0].secret) pass through.
func (s setting) decodeInto(c *config, n *yaml.Node) error {
	err := n.Decode(s.ptr(c))
	if err == nil {
		return nil
	}
	var ke *keyError
	var uk *unknownKeyError
	if errors.As(err, &ke) || errors.As(err, &uk) {
		return err
	}
	return &keyError{key: s.key, line: n.Line, err: errors.New(yamlReason(err))}
}

// unknownKeyError is a key in a YAML document that no setting declares.
type unknownKeyError struct {
	line int
	key  string
}

func (e *unknownKeyError) Error() string {
	return fmt.Sprintf("line %d: unknown key %s", e.line, e.key)
}

// parseScalar parses the text of an environment variable or a flag into
// the setting's field of c: as YAML, as in the file (30s, 1048576, true,
// [a, b]), except that a string setting takes the text as it is
// ([::1]:4567 needs no quotes).
func (s setting) parseScalar(c *config, text string) error {
	if s.typ == "string" {
		return s.decodeInto(c, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return &keyError{key: s.key, err: fmt.Errorf("cannot use %q: %s", text, yamlReason(err))}
	}
	if len(doc.Content) == 0 {
		return &keyError{key: s.key, err: fmt.Errorf("cannot use %q: empty", text)}
	}
	if err := s.decodeInto(c, doc.Content[0]); err != nil {
		var ke *keyError
		if errors.As(err, &ke) && ke.key == s.key {
			return &keyError{key: s.key, err: fmt.Errorf("cannot use %q: %v", text, ke.err)}
		}
		if errors.As(err, &ke) {
			ke.line = 0 // the line of a one-line value says nothing
		}
		return err
	}
	return nil
}

// Checks used by settings().

func oneOf(allowed ...string) check[string] {
	return func(_ *config, v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return invalid(v, "must be one of "+strings.Join(allowed, ", "))
	}
}

func atLeast[T cmp.Ordered](lo T) check[T] {
	return func(_ *config, v T) error {
		if v < lo {
			return invalid(v, fmt.Sprintf("must be at least %v", lo))
		}
		return nil
	}
}

func between[T cmp.Ordered](lo, hi T, want string) check[T] {
	return func(_ *config, v T) error {
		if v < lo || v > hi {
			return invalid(v, want)
		}
		return nil
	}
}

func positive[T cmp.Ordered]() check[T] {
	return func(_ *config, v T) error {
		var zero T
		if v <= zero {
			return invalid(v, "must be positive")
		}
		return nil
	}
}

func nonNegative[T cmp.Ordered]() check[T] {
	return func(_ *config, v T) error {
		var zero T
		if v < zero {
			return invalid(v, "must not be negative")
		}
		return nil
	}
}

func matches(re *regexp.Regexp, want string) check[string] {
	return func(_ *config, v string) error {
		if !re.MatchString(v) {
			return invalid(v, want)
		}
		return nil
	}
}

// hostPort accepts host:port, and the extra values given (admin.listen's ""
// and off).
func hostPort(want string, extra ...string) check[string] {
	return func(_ *config, v string) error {
		for _, e := range extra {
			if v == e {
				return nil
			}
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return invalid(v, want)
		}
		return nil
	}
}

// yamlReason strips yaml.v3's "yaml: unmarshal errors: line N:" wrapping,
// since the callers state the line and key themselves.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			msg = rest
		}
		return msg
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
