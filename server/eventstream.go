package server

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/shardlog/shardlog/shard"
)

// SubscribeToShard answers with an application/vnd.amazon.eventstream body:
// a sequence of binary messages (prelude, headers, payload, CRCs), framed by
// the SDK's own eventstream.Encoder. Every message carries :message-type;
// events carry :event-type ("initial-response" first, as the SDKs require,
// then "SubscribeToShardEvent"), exceptions carry :exception-type. The
// payload is encoded by the request's codec: JSON for JSON clients, CBOR for
// CBOR ones.
const eventStreamContentType = "application/vnd.amazon.eventstream"

// subscribeToShardEvent is the Kinesis SubscribeToShardEvent structure. Its
// records alias mapped segment memory that must stay held until encoded.
type subscribeToShardEvent struct {
	Records []eventRecord
	// ContinuationSequenceNumber is nil in the last event of a closed shard.
	ContinuationSequenceNumber *string `json:",omitempty"`
	MillisBehindLatest         int64
	ChildShards                []childShard `json:",omitempty"`
}

// eventRecord is the Kinesis Record structure as events carry it.
type eventRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp epochTime
	Data                        []byte
	PartitionKey                string
	EncryptionType              string `json:",omitempty"`
}

// childShard is the Kinesis ChildShard structure.
type childShard struct {
	ShardId      string
	ParentShards []string
	HashKeyRange hashKeyRange
}

// appendJSON encodes the event without reflection.
func (e *subscribeToShardEvent) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"Records":[`...)
	for i := range e.Records {
		r := &e.Records[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"SequenceNumber":"`...)
		dst = append(dst, r.SequenceNumber...)
		dst = append(dst, `","ApproximateArrivalTimestamp":`...)
		dst = appendEpochMs(dst, r.ApproximateArrivalTimestamp.UnixMilli())
		dst = append(dst, `,"Data":`...)
		dst = appendBase64(dst, r.Data)
		dst = append(dst, `,"PartitionKey":`...)
		dst = appendJSONString(dst, r.PartitionKey)
		if r.EncryptionType != "" {
			dst = append(dst, `,"EncryptionType":`...)
			dst = appendJSONString(dst, r.EncryptionType)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if e.ContinuationSequenceNumber != nil {
		dst = append(dst, `,"ContinuationSequenceNumber":"`...)
		dst = append(dst, *e.ContinuationSequenceNumber...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, e.MillisBehindLatest, 10)
	if e.ChildShards != nil {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range e.ChildShards {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ShardId":`...)
			dst = appendJSONString(dst, c.ShardId)
			dst = append(dst, `,"ParentShards":[`...)
			for j, p := range c.ParentShards {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, p)
			}
			dst = append(dst, `],"HashKeyRange":{"StartingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.StartingHashKey...)
			dst = append(dst, `","EndingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.EndingHashKey...)
			dst = append(dst, `"}}`...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// childShards lists the children of sh, for the last event of a closed
// shard.
func childShards(st *shard.Stream, sh *shard.Shard) []childShard {
	out := []childShard{}
	for _, c := range st.Shards() {
		if c.Parent() != sh.ID() && c.AdjacentParent() != sh.ID() {
			continue
		}
		parents := []string{c.Parent()}
		if p := c.AdjacentParent(); p != "" {
			parents = append(parents, p)
		}
		r := c.HashRange()
		out = append(out, childShard{
			ShardId:      c.ID(),
			ParentShards: parents,
			HashKeyRange: hashKeyRange{StartingHashKey: r.Start.String(), EndingHashKey: r.End.String()},
		})
	}
	return out
}

// eventPayloadType is the :content-type of event payloads for a codec.
func eventPayloadType(c codec) string {
	if _, ok := c.(jsonCodec); ok {
		return "application/json"
	}
	return c.contentType()
}

// eventWriter frames messages onto one subscription's response. It is used
// by one goroutine at a time.
type eventWriter struct {
	c       codec
	enc     *eventstream.Encoder
	msg     bytes.Buffer // one framed message
	payload []byte
}

var eventWriters = sync.Pool{New: func() any { return &eventWriter{enc: eventstream.NewEncoder()} }}

func getEventWriter(c codec) *eventWriter {
	w := eventWriters.Get().(*eventWriter)
	w.c = c
	return w
}

func putEventWriter(w *eventWriter) {
	if w.msg.Cap() > maxPooledBuffer || cap(w.payload) > maxPooledBuffer {
		return
	}
	w.c = nil
	eventWriters.Put(w)
}

// frame encodes one message with the given headers around payload and
// returns its bytes, valid until the next call.
func (w *eventWriter) frame(payload []byte, headers ...eventstream.Header) ([]byte, error) {
	w.msg.Reset()
	if err := w.enc.Encode(&w.msg, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
		return nil, err
	}
	return w.msg.Bytes(), nil
}

func strHeader(name, value string) eventstream.Header {
	return eventstream.Header{Name: name, Value: eventstream.StringValue(value)}
}

// initialResponse is the first message: the (empty) SubscribeToShardOutput.
func (w *eventWriter) initialResponse() ([]byte, error) {
	p, err := w.c.encode(w.payload[:0], &struct{}{})
	if err != nil {
		return nil, err
	}
	w.payload = p
	return w.frame(p,
		strHeader(":event-type", "initial-response"),
		strHeader(":content-type", eventPayloadType(w.c)),
		strHeader(":message-type", "event"))
}

// event frames one SubscribeToShardEvent.
func (w *eventWriter) event(e *subscribeToShardEvent) ([]byte, error) {
	p, err := w.c.encode(w.payload[:0], e)
	if err != nil {
		return nil, err
	}
	w.payload = p
	return w.frame(p,
		strHeader(":event-type", "SubscribeToShardEvent"),
		strHeader(":content-type", eventPayloadType(w.c)),
		strHeader(":message-type", "event"))
}

// exception frames an error as an exception message, which the SDKs turn
// into the modelled error type.
func (w *eventWriter) exception(e *APIError) ([]byte, error) {
	w.payload = w.c.encodeError(w.payload[:0], e)
	return w.frame(w.payload,
		strHeader(":exception-type", e.Type),
		strHeader(":content-type", eventPayloadType(w.c)),
		strHeader(":message-type", "exception"))
}
