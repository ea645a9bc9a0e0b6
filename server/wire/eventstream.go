package wire

import (
	"bytes"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// SubscribeToShard answers with an application/vnd.amazon.eventstream body:
// a sequence of binary messages (prelude, headers, payload, CRCs), framed by
// the SDK's own eventstream.Encoder. Every message carries :message-type;
// events carry :event-type ("initial-response" first, as the SDKs require,
// then "SubscribeToShardEvent"), exceptions carry :exception-type. The
// payload is encoded by the request's codec: JSON for JSON clients, CBOR for
// CBOR ones. EventStreamContentType is that body's Content-Type.
const EventStreamContentType = "application/vnd.amazon.eventstream"

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
	c       Codec
	enc     *eventstream.Encoder
	msg     bytes.Buffer // one framed message
	payload []byte
}

var eventWriters = sync.Pool{New: func() any { return &EventWriter{enc: eventstream.NewEncoder()} }}

// GetEventWriter returns a pooled EventWriter encoding payloads with c;
// give it back with PutEventWriter.
func GetEventWriter(c Codec) *EventWriter {
	w := eventWriters.Get().(*EventWriter)
	w.c = c
	return w
}

// PutEventWriter returns w to the pool, unless it grew past
// MaxPooledBuffer.
func PutEventWriter(w *EventWriter) {
	if w.msg.Cap() > MaxPooledBuffer || cap(w.payload) > MaxPooledBuffer {
		return
	}
	w.c = nil
	eventWriters.Put(w)
}

// frame encodes one message with the given headers around payload and
// returns its bytes, valid until the next call.
func (w *EventWriter) frame(payload []byte, headers ...eventstream.Header) ([]byte, error) {
	w.msg.Reset()
	if err := w.enc.Encode(&w.msg, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
		return nil, err
	}
	return w.msg.Bytes(), nil
}

func strHeader(name, value string) eventstream.Header {
	return eventstream.Header{Name: name, Value: eventstream.StringValue(value)}
}

// InitialResponse is the first message: the (empty) SubscribeToShardOutput.
func (w *EventWriter) InitialResponse() ([]byte, error) {
	p, err := w.c.Encode(w.payload[:0], &struct{}{})
	if err != nil {
		return nil, err
	}
	w.payload = p
	return w.frame(p,
		strHeader(":event-type", "initial-response"),
		strHeader(":content-type", EventPayloadType(w.c)),
		strHeader(":message-type", "event"))
}

// Event frames one SubscribeToShardEvent.
func (w *EventWriter) Event(e any) ([]byte, error) {
	p, err := w.c.Encode(w.payload[:0], e)
	if err != nil {
		return nil, err
	}
	w.payload = p
	return w.frame(p,
		strHeader(":event-type", "SubscribeToShardEvent"),
		strHeader(":content-type", EventPayloadType(w.c)),
		strHeader(":message-type", "event"))
}

// Exception frames an error as an exception message, which the SDKs turn
// into the modelled error type.
func (w *EventWriter) Exception(e *APIError) ([]byte, error) {
	w.payload = w.c.EncodeError(w.payload[:0], e)
	return w.frame(w.payload,
		strHeader(":exception-type", e.Type),
		strHeader(":content-type", EventPayloadType(w.c)),
		strHeader(":message-type", "exception"))
}
