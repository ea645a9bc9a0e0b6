package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// SubscribeToShard answers with an application/vnd.amazon.eventstream body:
// a sequence of binary messages. Each message is
//
//	total length   uint32, big endian, of the whole message
//	headers length uint32, big endian
//	prelude CRC    CRC-32 (IEEE) of the 8 bytes above
//	headers        encoded by the SDK's eventstream.EncodeHeaders
//	payload
//	message CRC    CRC-32 (IEEE) of everything before it
//
// the framing of the SDK's eventstream.Encoder, which a test checks byte for
// byte. Every message carries :message-type; events carry :event-type
// ("initial-response" first, as the SDKs require, then
// "SubscribeToShardEvent"), exceptions carry :exception-type. The payload is
// encoded by the request's codec: JSON for JSON clients, CBOR for CBOR ones.
// EventStreamContentType is that body's Content-Type.
const EventStreamContentType = "application/vnd.amazon.eventstream"

const (
	eventPreludeBytes = 12 // total length, headers length, prelude CRC
	eventCRCBytes     = 4  // message CRC
)

// EventPayloadType is the :content-type of event payloads for a codec.
func EventPayloadType(c Codec) string {
	if _, ok := c.(JSON); ok {
		return "application/json"
	}
	return c.ContentType()
}

// EventWriter frames messages onto one subscription's response. It is used
// by one goroutine at a time.
type EventWriter struct {
	c Codec
	// msg holds one framed message: the payload is encoded in place,
	// between the headers and the CRC, so a message of megabytes is not
	// copied again to be framed.
	msg     []byte
	headers bytes.Buffer // scratch for headers encoded per message
	// eventHeaders are the encoded headers of a SubscribeToShardEvent
	// with payloads of eventType, kept while the writer is pooled.
	eventHeaders []byte
	eventType    string
}

var eventWriters = sync.Pool{New: func() any { return new(EventWriter) }}

// GetEventWriter returns a pooled EventWriter encoding payloads with c;
// give it back with PutEventWriter.
func GetEventWriter(c Codec) *EventWriter {
	w := eventWriters.Get().(*EventWriter)
	w.c = c
	if t := EventPayloadType(c); t != w.eventType || w.eventHeaders == nil {
		h, err := w.encodeHeaders(
			strHeader(":event-type", "SubscribeToShardEvent"),
			strHeader(":content-type", t),
			strHeader(":message-type", "event"))
		if err != nil {
			panic("BUG: event headers: " + err.Error())
		}
		w.eventHeaders, w.eventType = bytes.Clone(h), t
	}
	return w
}

// PutEventWriter returns w to the pool, unless it grew past
// MaxPooledBuffer.
func PutEventWriter(w *EventWriter) {
	if cap(w.msg) > MaxPooledBuffer {
		return
	}
	w.c = nil
	eventWriters.Put(w)
}

// encodeHeaders encodes headers with the SDK's encoder; the bytes are valid
// until the next call.
func (w *EventWriter) encodeHeaders(headers ...eventstream.Header) ([]byte, error) {
	w.headers.Reset()
	if err := eventstream.EncodeHeaders(&w.headers, headers); err != nil {
		return nil, err
	}
	return w.headers.Bytes(), nil
}

// begin starts a message with headers in w.msg; the payload is to be
// appended to the result, and the message completed by end.
func (w *EventWriter) begin(headers []byte) []byte {
	m := append(w.msg[:0], make([]byte, eventPreludeBytes)...)
	return append(m, headers...)
}

// end completes the message m (prelude, headers of headersLen bytes,
// payload) begun by begin: it fills in the prelude and appends the message
// CRC. It returns the message's bytes, valid until the next message.
func (w *EventWriter) end(m []byte, headersLen int) ([]byte, error) {
	total := len(m) + eventCRCBytes
	if total > math.MaxUint32 {
		return nil, fmt.Errorf("event message of %d bytes", total)
	}
	binary.BigEndian.PutUint32(m[0:], uint32(total))
	binary.BigEndian.PutUint32(m[4:], uint32(headersLen))
	binary.BigEndian.PutUint32(m[8:], crc32.ChecksumIEEE(m[:8]))
	m = binary.BigEndian.AppendUint32(m, crc32.ChecksumIEEE(m))
	w.msg = m
	return m, nil
}

func strHeader(name, value string) eventstream.Header {
	return eventstream.Header{Name: name, Value: eventstream.StringValue(value)}
}

// InitialResponse is the first message: the (empty) SubscribeToShardOutput.
func (w *EventWriter) InitialResponse() ([]byte, error) {
	h, err := w.encodeHeaders(
		strHeader(":event-type", "initial-response"),
		strHeader(":content-type", EventPayloadType(w.c)),
		strHeader(":message-type", "event"))
	if err != nil {
		return nil, err
	}
	m, err := w.c.Encode(w.begin(h), &struct{}{})
	if err != nil {
		return nil, err
	}
	return w.end(m, len(h))
}

// Event frames one SubscribeToShardEvent.
func (w *EventWriter) Event(e any) ([]byte, error) {
	m, err := w.c.Encode(w.begin(w.eventHeaders), e)
	if err != nil {
		return nil, err
	}
	return w.end(m, len(w.eventHeaders))
}

// Exception frames an error as an exception message, which the SDKs turn
// into the modelled error type.
func (w *EventWriter) Exception(e *APIError) ([]byte, error) {
	h, err := w.encodeHeaders(
		strHeader(":exception-type", e.Type),
		strHeader(":content-type", EventPayloadType(w.c)),
		strHeader(":message-type", "exception"))
	if err != nil {
		return nil, err
	}
	return w.end(w.c.EncodeError(w.begin(h), e), len(h))
}
