package wire

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// TestEventWriterFramesAsTheSDK: every message an EventWriter frames is byte
// for byte what the SDK's eventstream.Encoder makes of the same headers and
// payload, for both codecs, with a writer reused across codecs and
// messages of very different sizes (the buffer is reused in place), and the
// SDK's decoder (which checks both CRCs) reads it back.
func TestEventWriterFramesAsTheSDK(t *testing.T) {
	enc := eventstream.NewEncoder()
	dec := eventstream.NewDecoder()
	big := struct{ Data []byte }{Data: bytes.Repeat([]byte{0xa5}, 300<<10)}
	small := struct{ MillisBehindLatest int64 }{MillisBehindLatest: 42}
	// No message: CBOR error bodies are encoded from a map, so with two
	// keys their order may differ from one encoding to the next.
	apiErr := &APIError{Type: ResourceInUse}
	w := GetEventWriter(JSON{})
	defer func() { PutEventWriter(w) }()
	for _, c := range []Codec{JSON{}, CBOR{}, JSON{}} {
		PutEventWriter(w)
		w = GetEventWriter(c)
		ct := strHeader(":content-type", EventPayloadType(c))
		f := func(name string, got []byte, err error, headers eventstream.Headers, payload []byte) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s %s: %v", c.ContentType(), name, err)
			}
			var want bytes.Buffer
			if err := enc.Encode(&want, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%s %s: framed %d bytes %x…, the SDK %d bytes %x…", c.ContentType(), name,
					len(got), got[:min(len(got), 64)], want.Len(), want.Bytes()[:min(want.Len(), 64)])
			}
			m, err := dec.Decode(bytes.NewReader(got), nil)
			if err != nil || !bytes.Equal(m.Payload, payload) {
				t.Fatalf("%s %s: decoded %d payload bytes, %v", c.ContentType(), name, len(m.Payload), err)
			}
		}
		payload := func(v any) []byte {
			p, err := c.Encode(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		eventHeaders := eventstream.Headers{strHeader(":event-type", "SubscribeToShardEvent"), ct, strHeader(":message-type", "event")}
		got, err := w.InitialResponse()
		f("initial response", got, err,
			eventstream.Headers{strHeader(":event-type", "initial-response"), ct, strHeader(":message-type", "event")},
			payload(&struct{}{}))
		got, err = w.Event(&big)
		f("big event", got, err, eventHeaders, payload(&big))
		got, err = w.Event(&small)
		f("small event", got, err, eventHeaders, payload(&small))
		got, err = w.Exception(apiErr)
		f("exception", got, err,
			eventstream.Headers{strHeader(":exception-type", apiErr.Type), ct, strHeader(":message-type", "exception")},
			c.EncodeError(nil, apiErr))
	}
}
