package server

import (
	"errors"
	"math"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/shardlog/shardlog/shard"
)

// cborCodec is AWS CBOR 1.1 (application/x-amz-cbor-1.1), what the Java SDK
// and the Kinesis Client Library send unless told otherwise. It decodes
// into and encodes from the same structs as jsonCodec (fxamacker/cbor reads
// their json tags): member names are map keys, blobs ([]byte) are byte
// strings, and timestamps (epochTime) are CBOR tag 1 holding epoch
// *milliseconds* as an integer, as the Java SDK writes and expects them
// (not the seconds RFC 8949 specifies). Errors are a map with "__type" and
// "message" ("Message" for a SerializationException: messageKey).
//
// Responses whose structs hold opaque state (GetRecords, PutRecords, whose
// JSON is hand-written) implement cborShaper to hand the codec a plain
// struct of the wire shape.
type cborCodec struct{}

// cborShaper is implemented by response structs whose fields are not the
// wire shape; cborShape returns a value that is, valid until release.
type cborShaper interface {
	cborShape() any
}

var (
	cborDec = func() cbor.DecMode {
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
	cborEnc = func() cbor.EncMode {
		m, err := cbor.EncOptions{Sort: cbor.SortNone, Time: cbor.TimeUnixMicro}.EncMode()
		if err != nil {
			panic("BUG: cbor encode options: " + err.Error())
		}
		return m
	}()
)

func (cborCodec) contentType() string { return "application/x-amz-cbor-1.1" }

func (cborCodec) decode(body []byte, v any) error {
	if len(body) == 0 {
		return &APIError{Type: errSerialization}
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		return cborSerializationError(err)
	}
	return nil
}

func (cborCodec) encode(dst []byte, v any) ([]byte, error) {
	if s, ok := v.(cborShaper); ok {
		v = s.cborShape()
	}
	b, err := cborEnc.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func (cborCodec) wellFormed(body []byte) bool { return cbor.Wellformed(body) == nil }

func (cborCodec) encodeError(dst []byte, e *APIError) []byte {
	body := map[string]string{"__type": e.Type}
	if e.Message != "" {
		body[e.messageKey()] = e.message()
	}
	b, err := cborEnc.Marshal(body)
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
		return &APIError{Type: errSerialization, Message: "Unexpected CBOR type " + te.CBORType + " for a " + cborWant(te.GoType) + " member."}
	}
	return &APIError{Type: errSerialization, Message: "The request body is not valid CBOR."}
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
func (t *epochTime) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	var content any
	if len(b) > 0 && b[0]>>5 == 6 { // major type 6: a tag
		if err := cborDec.Unmarshal(b, &raw); err != nil {
			return err
		}
		if raw.Number != 1 {
			return &APIError{Type: errSerialization, Message: "Unexpected CBOR tag for a Timestamp member."}
		}
		if err := cborDec.Unmarshal(raw.Content, &content); err != nil {
			return err
		}
	} else if err := cborDec.Unmarshal(b, &content); err != nil {
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
			return &APIError{Type: errSerialization, Message: "Invalid Timestamp."}
		}
		sec, frac := math.Modf(n)
		t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
	default:
		return &APIError{Type: errSerialization, Message: "Unexpected CBOR type " + reflect.TypeOf(content).String() + " for a Timestamp member."}
	}
	return nil
}

// MarshalCBOR implements cbor.Marshaler: tag 1 around epoch milliseconds.
func (t epochTime) MarshalCBOR() ([]byte, error) {
	return cborEnc.Marshal(cbor.Tag{Number: 1, Content: t.UnixMilli()})
}

// getRecordsShape is GetRecords' response in its wire shape.
type getRecordsShape struct {
	Records            []eventRecord
	NextShardIterator  string `json:",omitempty"`
	MillisBehindLatest int64
	ChildShards        []childShard `json:",omitempty"`
}

func (o *getRecordsOutput) cborShape() any {
	out := &getRecordsShape{Records: make([]eventRecord, 0, len(o.res.Records)), MillisBehindLatest: o.res.MillisBehind}
	id := o.shard.SeqID()
	for _, r := range o.res.Records {
		er := eventRecord{
			SequenceNumber:              string(shard.FormatSequenceNumber(nil, id, r.Seq)),
			ApproximateArrivalTimestamp: epochTime{time.UnixMilli(r.ArrivalMs)},
			Data:                        r.Data,
			PartitionKey:                string(r.PartitionKey),
		}
		if o.kms {
			er.EncryptionType = "KMS"
		}
		out.Records = append(out.Records, er)
	}
	if o.res.AtEnd {
		out.ChildShards = []childShard{}
		for _, c := range o.children {
			parents := []string{c.Parent()}
			if p := c.AdjacentParent(); p != "" {
				parents = append(parents, p)
			}
			r := c.HashRange()
			out.ChildShards = append(out.ChildShards, childShard{ShardId: c.ID(), ParentShards: parents,
				HashKeyRange: hashKeyRange{StartingHashKey: r.Start.String(), EndingHashKey: r.End.String()}})
		}
	} else {
		out.NextShardIterator = string(o.nextIterator)
	}
	return out
}

// putRecordsShape is PutRecords' response in its wire shape.
type putRecordsShape struct {
	FailedRecordCount int
	Records           []putRecordsResultEntry
	EncryptionType    string
}

type putRecordsResultEntry struct {
	SequenceNumber string `json:",omitempty"`
	ShardId        string `json:",omitempty"`
	ErrorCode      string `json:",omitempty"`
	ErrorMessage   string `json:",omitempty"`
}

func (o *putRecordsOutput) cborShape() any {
	out := &putRecordsShape{FailedRecordCount: o.failed, Records: make([]putRecordsResultEntry, 0, len(o.results)), EncryptionType: "NONE"}
	if o.kms {
		out.EncryptionType = "KMS"
	}
	for i := range o.results {
		r := &o.results[i]
		if r.Err != nil {
			code, msg := recordError(r.Err)
			out.Records = append(out.Records, putRecordsResultEntry{ErrorCode: code, ErrorMessage: msg})
			continue
		}
		out.Records = append(out.Records, putRecordsResultEntry{SequenceNumber: r.Shard.SequenceNumber(r.Seq), ShardId: r.Shard.ID()})
	}
	return out
}
