package wire

import (
	"errors"
	"math"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CBOR is AWS CBOR 1.1 (application/x-amz-cbor-1.1), what the Java SDK
// and the Kinesis Client Library send unless told otherwise. It decodes
// into and encodes from the same structs as JSON (fxamacker/cbor reads
// their json tags): member names are map keys, blobs ([]byte) are byte
// strings, and timestamps (EpochTime) are CBOR tag 1 holding epoch
// *milliseconds* as an integer, as the Java SDK writes and expects them
// (not the seconds RFC 8949 specifies). Errors are a map with "__type" and
// "message" ("Message" for a SerializationException: messageKey).
//
// The hot paths skip reflection: requests that implement CBORDecoder
// (PutRecords) and responses that implement CBORAppender (GetRecords,
// PutRecords, SubscribeToShard events) are decoded and encoded by hand,
// to the same bytes (cborappend.go).
type CBOR struct{}

var (
	CBORDecMode = func() cbor.DecMode {
		m, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyQuiet,
			IndefLength:       cbor.IndefLengthAllowed,
			TagsMd:            cbor.TagsAllowed,
			ExtraReturnErrors: cbor.ExtraDecErrorNone,
			MaxNestedLevels:   64,
		}.DecMode()
		if err != nil {
			panic("BUG: cbor decode options: " + err.Error())
		}
		return m
	}()
	CBOREncMode = func() cbor.EncMode {
		m, err := cbor.EncOptions{Sort: cbor.SortNone, Time: cbor.TimeUnixMicro}.EncMode()
		if err != nil {
			panic("BUG: cbor encode options: " + err.Error())
		}
		return m
	}()
)

func (CBOR) ContentType() string { return "application/x-amz-cbor-1.1" }

func (CBOR) Decode(body []byte, v any) error {
	if len(body) == 0 {
		return &APIError{Type: Serialization}
	}
	if fd, ok := v.(CBORDecoder); ok {
		if err := fd.DecodeCBOR(body); err == nil {
			return nil
		}
		// Start again from zero: the fast path may have filled some fields.
		reflect.ValueOf(v).Elem().SetZero()
	}
	if err := CBORDecMode.Unmarshal(body, v); err != nil {
		return cborSerializationError(err)
	}
	return nil
}

func (CBOR) Encode(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(CBORAppender); ok {
		return a.AppendCBOR(dst), nil
	}
	b, err := CBOREncMode.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (CBOR) WellFormed(body []byte) bool { return cbor.Wellformed(body) == nil }

func (CBOR) EncodeError(dst []byte, e *APIError) []byte {
	body := map[string]string{"__type": e.Type}
	if e.Message != "" {
		body[e.MessageKey()] = e.TruncatedMessage()
	}
	b, err := CBOREncMode.Marshal(body)
	if err != nil {
		panic("BUG: cbor error body: " + err.Error())
	}
	return append(dst, b...)
}

// cborSerializationError describes a CBOR decoding failure in AWS's words.
func cborSerializationError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var te *cbor.UnmarshalTypeError
	if errors.As(err, &te) {
		return &APIError{Type: Serialization, Message: "Unexpected CBOR type " + te.CBORType + " for a " + cborWant(te.GoType) + " member."}
	}
	return &APIError{Type: Serialization, Message: "The request body is not valid CBOR."}
}

func cborWant(goType string) string {
	switch goType {
	case "[]uint8":
		return "Blob"
	case "string", "*string":
		return "String"
	}
	return goType
}

// UnmarshalCBOR implements cbor.Unmarshaler: tag 1 (or no tag) around an
// integer is epoch milliseconds, as the Java SDK sends; around a float it is
// epoch seconds, as RFC 8949 has it.
func (t *EpochTime) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	var content any
	if len(b) > 0 && b[0]>>5 == 6 { // major type 6: a tag
		if err := CBORDecMode.Unmarshal(b, &raw); err != nil {
			return err
		}
		if raw.Number != 1 {
			return &APIError{Type: Serialization, Message: "Unexpected CBOR tag for a Timestamp member."}
		}
		if err := CBORDecMode.Unmarshal(raw.Content, &content); err != nil {
			return err
		}
	} else if err := CBORDecMode.Unmarshal(b, &content); err != nil {
		return err
	}
	switch n := content.(type) {
	case nil:
		return nil
	case uint64:
		t.Time = time.UnixMilli(int64(n))
	case int64:
		t.Time = time.UnixMilli(n)
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return &APIError{Type: Serialization, Message: "Invalid Timestamp."}
		}
		sec, frac := math.Modf(n)
		t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
	default:
		return &APIError{Type: Serialization, Message: "Unexpected CBOR type " + reflect.TypeOf(content).String() + " for a Timestamp member."}
	}
	return nil
}

// MarshalCBOR implements cbor.Marshaler: tag 1 around epoch milliseconds.
func (t EpochTime) MarshalCBOR() ([]byte, error) {
	return CBOREncMode.Marshal(cbor.Tag{Number: 1, Content: t.UnixMilli()})
}
