package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	asmbase64 "github.com/segmentio/asm/base64"
)

// A Codec turns request bodies into request structs and response structs
// into response bodies: JSON (application/x-amz-json-1.1) and CBOR
// (application/x-amz-cbor-1.1), over the same structs, each with its own
// optional fast-path interfaces (JSONAppender and JSONDecoder,
// CBORAppender and CBORDecoder).
// Codecs are stateless and safe for concurrent use.
type Codec interface {
	// ContentType is the Content-Type of responses.
	ContentType() string
	// Decode fills v (a pointer to a request struct) from body. Malformed
	// input and wrong types are a SerializationException *APIError.
	Decode(body []byte, v any) error
	// Encode appends the encoding of v (a pointer to a response struct).
	Encode(dst []byte, v any) ([]byte, error)
	// EncodeError appends the body of an error response.
	EncodeError(dst []byte, e *APIError) []byte
	// WellFormed reports whether body is syntactically valid, whatever
	// its shape: what the front end checks before it looks the operation
	// up.
	WellFormed(body []byte) bool
}

// codecs maps a request's media type (Content-Type without parameters) to
// its codec. Both JSON media types are accepted as AWS JSON 1.1.
var codecs = map[string]Codec{
	"application/x-amz-json-1.1": JSON{},
	"application/json":           JSON{},
	"application/x-amz-cbor-1.1": CBOR{},
}

// JSONAppender is implemented by response structs on hot paths that encode
// themselves without reflection. The output must equal what encoding/json
// would produce for the struct's documented wire shape.
type JSONAppender interface {
	AppendJSON(dst []byte) []byte
}

// JSON is AWS JSON 1.1: encoding/json over the request and response
// structs, whose field names are the Kinesis member names. Blobs ([]byte)
// are base64, timestamps (EpochTime) are epoch seconds.
type JSON struct{}

func (JSON) ContentType() string { return "application/x-amz-json-1.1" }

func (JSON) Decode(body []byte, v any) error {
	if len(body) == 0 {
		return &APIError{Type: Serialization}
	}
	if fd, ok := v.(JSONDecoder); ok {
		if err := fd.DecodeJSON(body); err == nil {
			return nil
		}
		// Start again from zero: the fast path may have filled some fields.
		rv := reflect.ValueOf(v).Elem()
		rv.SetZero()
	}
	if err := json.Unmarshal(body, v); err != nil {
		return serializationError(err)
	}
	return nil
}

func (JSON) Encode(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(JSONAppender); ok {
		return a.AppendJSON(dst), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (JSON) WellFormed(body []byte) bool { return json.Valid(body) }

func (JSON) EncodeError(dst []byte, e *APIError) []byte {
	dst = append(dst, `{"__type":`...)
	dst = AppendJSONString(dst, e.Type)
	if e.Message != "" {
		dst = append(dst, `,"`...)
		dst = append(dst, e.MessageKey()...)
		dst = append(dst, `":`...)
		dst = AppendJSONString(dst, e.TruncatedMessage())
	}
	return append(dst, '}')
}

// serializationError describes a JSON decoding failure in the words of the
// AWS (Java) front end, never with Go type names.
func serializationError(err error) *APIError {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		var ae *APIError
		if errors.As(err, &ae) {
			return ae
		}
		var be base64.CorruptInputError
		if errors.As(err, &be) {
			return &APIError{Type: Serialization, Message: "Base64 encoded blob could not be decoded: invalid character at offset " + strconv.FormatInt(int64(be), 10)}
		}
		return &APIError{Type: Serialization, Message: "The request body is not valid JSON."}
	}
	got := te.Value
	if i := len(got); i > 6 && got[:6] == "number" {
		got = "number"
	}
	t := te.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var want string
	switch {
	case t == reflect.TypeFor[[]byte]():
		want = "a Blob"
	case t.Kind() == reflect.String:
		want = "an String"
	case t.Kind() == reflect.Bool:
		want = "an Boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		want = "an Integer"
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32 || t == reflect.TypeFor[EpochTime]():
		want = "an Double"
	case t.Kind() == reflect.Slice:
		if got == "object" {
			return &APIError{Type: Serialization, Message: "Start of structure or map found where not expected."}
		}
		return &APIError{Type: Serialization, Message: "Expected list or null"}
	case t.Kind() == reflect.Map:
		if got == "array" {
			return &APIError{Type: Serialization, Message: "Start of list found where not expected"}
		}
		return &APIError{Type: Serialization, Message: "Expected map or null"}
	default:
		if got == "array" {
			return &APIError{Type: Serialization, Message: "Start of list found where not expected"}
		}
		return &APIError{Type: Serialization, Message: "Expected null"}
	}
	switch got {
	case "array":
		return &APIError{Type: Serialization, Message: "Start of list found where not expected"}
	case "object":
		return &APIError{Type: Serialization, Message: "Start of structure or map found where not expected."}
	case "bool":
		return &APIError{Type: Serialization, Message: "class java.lang.Boolean can not be converted to " + want}
	case "number":
		return &APIError{Type: Serialization, Message: "class java.math.BigDecimal can not be converted to " + want}
	default:
		return &APIError{Type: Serialization, Message: "class java.lang.String can not be converted to " + want}
	}
}

// EpochTime is a Kinesis timestamp: on the JSON wire a number of seconds
// since the Unix epoch with a fractional part (milliseconds).
type EpochTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return &APIError{Type: Serialization, Message: "class java.lang.String can not be converted to an Double"}
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	return AppendEpochMs(nil, t.UnixMilli()), nil
}

// AppendEpochMs appends ms (since the Unix epoch) as epoch seconds with up
// to three decimals, the JSON form of a Kinesis timestamp.
func AppendEpochMs(dst []byte, ms int64) []byte {
	if ms < 0 {
		return strconv.AppendFloat(dst, float64(ms)/1e3, 'f', -1, 64)
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	if r := ms % 1000; r != 0 {
		dst = append(dst, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// EpochMsLen is len(AppendEpochMs(nil, ms)).
func EpochMsLen(ms int64) int {
	if ms < 0 {
		var b [32]byte
		return len(AppendEpochMs(b[:0], ms))
	}
	n := 1
	for s := ms / 1000; s >= 10; s /= 10 {
		n++
	}
	switch r := ms % 1000; {
	case r == 0:
	case r%100 == 0:
		n += 2
	case r%10 == 0:
		n += 3
	default:
		n += 4
	}
	return n
}

// HexDigits are the lower-case hexadecimal digits.
const HexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaping as encoding/json
// does (minus its HTML escaping, which JSON does not need). s is UTF-8 text,
// a string or bytes read straight from a segment.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', HexDigits[c>>4], HexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// JSONStringLen is len(AppendJSONString(nil, s)).
func JSONStringLen[S ~string | ~[]byte](s S) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x20 && c != '"' && c != '\\':
		case c == '"', c == '\\', c == '\n', c == '\r', c == '\t':
			n++
		default:
			n += 5
		}
	}
	return n
}

// Base64Len is len(AppendBase64(nil, data)) for len(data) == n.
func Base64Len(n int) int { return b64.EncodedLen(n) + 2 }

// b64 encodes blobs with SIMD (segmentio/asm).
var b64 = asmbase64.StdEncoding

// AppendBase64 appends data as a quoted standard base64 string, encoded
// with SIMD (the same b64 as the PutRecords decoder; about 10x the standard
// library on 1 KiB records, which GetRecords encodes by the thousand).
func AppendBase64(dst []byte, data []byte) []byte {
	dst = append(dst, '"')
	n := b64.EncodedLen(len(data))
	dst = slices.Grow(dst, n+1)
	b64.Encode(dst[len(dst):len(dst)+n], data)
	dst = dst[:len(dst)+n]
	return append(dst, '"')
}

// JSONDecoder is implemented by request structs on hot paths that decode
// the common, well-formed request without reflection. decodeJSON returns
// errSlowPath for anything it does not handle (escapes, unexpected types,
// malformed input); the codec then decodes with encoding/json, which also
// words the errors. The result must equal encoding/json's for every input
// decodeJSON accepts (FuzzPutRecordsDecode checks this). Decoded strings may
// alias body, which outlives the request struct.
type JSONDecoder interface {
	DecodeJSON(body []byte) error
}

// RequestCodec returns the codec of a request's Content-Type, and whether
// the type is one the API accepts; for any other type, JSON, in which the
// errors about it are answered. Every error answer, even one about the
// method or the operation, is in the request's codec when it has one: a
// CBOR client (the Java SDK) cannot parse a JSON body.
func RequestCodec(contentType string) (Codec, bool) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	if c, ok := codecs[strings.TrimSpace(mediaType)]; ok {
		return c, true
	}
	return JSON{}, false
}
