package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// A codec turns request bodies into request structs and response structs
// into response bodies. JSON (application/x-amz-json-1.1) is the only one
// today; CBOR (application/x-amz-cbor-1.1) will be a second codec over the
// same structs, with its own optional fast-path interfaces.
type codec interface {
	// contentType is the Content-Type of responses.
	contentType() string
	// decode fills v (a pointer to a request struct) from body. Malformed
	// input and wrong types are a SerializationException *APIError.
	decode(body []byte, v any) error
	// encode appends the encoding of v (a pointer to a response struct).
	encode(dst []byte, v any) ([]byte, error)
	// encodeError appends the body of an error response.
	encodeError(dst []byte, e *APIError) []byte
	// wellFormed reports whether body is syntactically valid, whatever
	// its shape: what the front end checks before it looks the operation
	// up.
	wellFormed(body []byte) bool
}

// codecs maps a request's media type (Content-Type without parameters) to
// its codec. Both JSON media types are accepted as AWS JSON 1.1.
var codecs = map[string]codec{
	"application/x-amz-json-1.1": jsonCodec{},
	"application/json":           jsonCodec{},
	"application/x-amz-cbor-1.1": cborCodec{},
}

// jsonAppender is implemented by response structs on hot paths that encode
// themselves without reflection. The output must equal what encoding/json
// would produce for the struct's documented wire shape.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

// jsonCodec is AWS JSON 1.1: encoding/json over the request and response
// structs, whose field names are the Kinesis member names. Blobs ([]byte)
// are base64, timestamps (epochTime) are epoch seconds.
type jsonCodec struct{}

func (jsonCodec) contentType() string { return "application/x-amz-json-1.1" }

func (jsonCodec) decode(body []byte, v any) error {
	if len(body) == 0 {
		return &APIError{Type: errSerialization}
	}
	if fd, ok := v.(jsonDecoder); ok {
		if err := fd.decodeJSON(body); err == nil {
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

func (jsonCodec) encode(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		return a.appendJSON(dst), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (jsonCodec) wellFormed(body []byte) bool { return json.Valid(body) }

func (jsonCodec) encodeError(dst []byte, e *APIError) []byte {
	dst = append(dst, `{"__type":`...)
	dst = appendJSONString(dst, e.Type)
	if e.Message != "" {
		dst = append(dst, `,"`...)
		dst = append(dst, e.messageKey()...)
		dst = append(dst, `":`...)
		dst = appendJSONString(dst, e.message())
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
			return &APIError{Type: errSerialization, Message: "Base64 encoded blob could not be decoded: invalid character at offset " + strconv.FormatInt(int64(be), 10)}
		}
		return &APIError{Type: errSerialization, Message: "The request body is not valid JSON."}
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
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32 || t == reflect.TypeFor[epochTime]():
		want = "an Double"
	case t.Kind() == reflect.Slice:
		if got == "object" {
			return &APIError{Type: errSerialization, Message: "Start of structure or map found where not expected."}
		}
		return &APIError{Type: errSerialization, Message: "Expected list or null"}
	case t.Kind() == reflect.Map:
		if got == "array" {
			return &APIError{Type: errSerialization, Message: "Start of list found where not expected"}
		}
		return &APIError{Type: errSerialization, Message: "Expected map or null"}
	default:
		if got == "array" {
			return &APIError{Type: errSerialization, Message: "Start of list found where not expected"}
		}
		return &APIError{Type: errSerialization, Message: "Expected null"}
	}
	switch got {
	case "array":
		return &APIError{Type: errSerialization, Message: "Start of list found where not expected"}
	case "object":
		return &APIError{Type: errSerialization, Message: "Start of structure or map found where not expected."}
	case "bool":
		return &APIError{Type: errSerialization, Message: "class java.lang.Boolean can not be converted to " + want}
	case "number":
		return &APIError{Type: errSerialization, Message: "class java.math.BigDecimal can not be converted to " + want}
	default:
		return &APIError{Type: errSerialization, Message: "class java.lang.String can not be converted to " + want}
	}
}

// epochTime is a Kinesis timestamp: on the JSON wire a number of seconds
// since the Unix epoch with a fractional part (milliseconds).
type epochTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *epochTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return &APIError{Type: errSerialization, Message: "class java.lang.String can not be converted to an Double"}
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t epochTime) MarshalJSON() ([]byte, error) {
	return appendEpochMs(nil, t.UnixMilli()), nil
}

// appendEpochMs appends ms (since the Unix epoch) as epoch seconds with up
// to three decimals, the JSON form of a Kinesis timestamp.
func appendEpochMs(dst []byte, ms int64) []byte {
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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping as encoding/json
// does (minus its HTML escaping, which JSON does not need). s is UTF-8 text,
// a string or bytes read straight from a segment.
func appendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
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
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendBase64 appends data as a quoted standard base64 string, encoded
// with SIMD (the same b64 as the PutRecords decoder; about 10x the standard
// library on 1 KiB records, which GetRecords encodes by the thousand).
func appendBase64(dst []byte, data []byte) []byte {
	dst = append(dst, '"')
	n := b64.EncodedLen(len(data))
	dst = slices.Grow(dst, n+1)
	b64.Encode(dst[len(dst):len(dst)+n], data)
	dst = dst[:len(dst)+n]
	return append(dst, '"')
}
