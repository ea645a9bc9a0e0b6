package server

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/fxamacker/cbor/v2"
)

// The Java SDK (Jackson's CBORGenerator under SdkCborGenerator) writes every
// structure as an indefinite-length map (0xbf ... 0xff), strings as text
// strings, blobs as byte strings and timestamps as tag 1 around an integer
// of epoch milliseconds. javaCBOR builds requests byte by byte the same
// way, so the tests do not depend on the encoder under test.
type javaCBOR struct{ b []byte }

func (j *javaCBOR) head(major byte, n uint64) {
	switch {
	case n < 24:
		j.b = append(j.b, major<<5|byte(n))
	case n <= 0xff:
		j.b = append(j.b, major<<5|24, byte(n))
	case n <= 0xffff:
		j.b = append(j.b, major<<5|25)
		j.b = binary.BigEndian.AppendUint16(j.b, uint16(n))
	case n <= 0xffffffff:
		j.b = append(j.b, major<<5|26)
		j.b = binary.BigEndian.AppendUint32(j.b, uint32(n))
	default:
		j.b = append(j.b, major<<5|27)
		j.b = binary.BigEndian.AppendUint64(j.b, n)
	}
}
func (j *javaCBOR) start() *javaCBOR     { j.b = append(j.b, 0xbf); return j }
func (j *javaCBOR) end() *javaCBOR       { j.b = append(j.b, 0xff); return j }
func (j *javaCBOR) startList() *javaCBOR { j.b = append(j.b, 0x9f); return j }
func (j *javaCBOR) text(s string) *javaCBOR {
	j.head(3, uint64(len(s)))
	j.b = append(j.b, s...)
	return j
}
func (j *javaCBOR) bytes(p []byte) *javaCBOR {
	j.head(2, uint64(len(p)))
	j.b = append(j.b, p...)
	return j
}
func (j *javaCBOR) int(n uint64) *javaCBOR { j.head(0, n); return j }
func (j *javaCBOR) key(k string) *javaCBOR { return j.text(k) }
func (j *javaCBOR) timestamp(t time.Time) *javaCBOR {
	j.head(6, 1)
	return j.int(uint64(t.UnixMilli()))
}

// cborCall posts a CBOR request and decodes the CBOR response.
func cborCall(t *testing.T, c testClient, addr, op string, body []byte) (int, map[string]any, []byte) {
	t.Helper()
	r := c.send(t, addr, http.MethodPost, body, "X-Amz-Target", targetPrefix+op, "Content-Type", "application/x-amz-cbor-1.1")
	raw := r.body
	if ct := r.header.Get("Content-Type"); ct != "application/x-amz-cbor-1.1" {
		t.Fatalf("%s: Content-Type %q", op, ct)
	}
	var m map[string]any
	if err := cbor.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: response is not a CBOR map: %v (% x)", op, err, raw)
	}
	return r.status, m, raw
}

// epochMsTag checks v is tag 1 around an integer and returns it.
func epochMsTag(t *testing.T, field string, v any) int64 {
	t.Helper()
	// fxamacker decodes tag 1 into a time.Time, reading the integer as
	// seconds: its Unix() is the integer on the wire, and a whole number of
	// seconds means no fraction was sent.
	if tm, ok := v.(time.Time); ok {
		if tm.Nanosecond() != 0 {
			t.Fatalf("%s: tag 1 holds a fraction (%v), want an integer of milliseconds", field, tm)
		}
		return tm.Unix()
	}
	tag, ok := v.(cbor.Tag)
	if !ok || tag.Number != 1 {
		t.Fatalf("%s: %#v, want tag 1", field, v)
	}
	switch n := tag.Content.(type) {
	case uint64:
		return int64(n)
	case int64:
		return n
	}
	t.Fatalf("%s: tag 1 holds %#v, want an integer of milliseconds", field, tag.Content)
	return 0
}

func TestCBORJavaSDKRequests(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "cbor-" + c.name
		before := time.Now().Add(-time.Second)
		e.createStream(name, 1)

		// PutRecord: a blob as a byte string.
		status, out, _ := cborCall(t, c, e.addr, "PutRecord", new(javaCBOR).start().
			key("StreamName").text(name).key("Data").bytes([]byte{0, 1, 2, 0xff}).key("PartitionKey").text("pk").end().b)
		if status != 200 || out["ShardId"] != "shardId-000000000000" || out["EncryptionType"] != "NONE" {
			t.Fatalf("PutRecord: %d %v", status, out)
		}
		firstSeq, _ := out["SequenceNumber"].(string)
		if len(firstSeq) < 20 {
			t.Fatalf("PutRecord SequenceNumber %#v", out["SequenceNumber"])
		}

		// PutRecords: a list of structures, indefinite-length too.
		j := new(javaCBOR).start().key("Records").startList()
		for _, d := range []string{"a", "bb", "ccc"} {
			j.start().key("Data").bytes([]byte(d)).key("PartitionKey").text("k" + d).end()
		}
		j.end().key("StreamName").text(name).end()
		status, out, _ = cborCall(t, c, e.addr, "PutRecords", j.b)
		recs, _ := out["Records"].([]any)
		if status != 200 || out["FailedRecordCount"] != uint64(0) || len(recs) != 3 || out["EncryptionType"] != "NONE" {
			t.Fatalf("PutRecords: %d %v", status, out)
		}
		if r0 := recs[0].(map[any]any); r0["ShardId"] != "shardId-000000000000" || r0["SequenceNumber"] == nil || r0["ErrorCode"] != nil {
			t.Fatalf("PutRecords entry %v", r0)
		}

		// GetShardIterator AT_TIMESTAMP: tag 1 around epoch milliseconds.
		status, out, _ = cborCall(t, c, e.addr, "GetShardIterator", new(javaCBOR).start().
			key("StreamName").text(name).key("ShardId").text("shardId-000000000000").
			key("ShardIteratorType").text("AT_TIMESTAMP").key("Timestamp").timestamp(before).end().b)
		it, _ := out["ShardIterator"].(string)
		if status != 200 || it == "" {
			t.Fatalf("GetShardIterator: %d %v", status, out)
		}

		// GetRecords: Data back as a byte string, arrival as tag 1 milliseconds.
		status, out, _ = cborCall(t, c, e.addr, "GetRecords", new(javaCBOR).start().key("ShardIterator").text(it).key("Limit").int(10).end().b)
		recs, _ = out["Records"].([]any)
		if status != 200 || len(recs) != 4 {
			t.Fatalf("GetRecords: %d %v", status, out)
		}
		r0 := recs[0].(map[any]any)
		if d, ok := r0["Data"].([]byte); !ok || !bytes.Equal(d, []byte{0, 1, 2, 0xff}) {
			t.Fatalf("GetRecords Data %#v, want a byte string", r0["Data"])
		}
		if r0["SequenceNumber"] != firstSeq || r0["PartitionKey"] != "pk" {
			t.Fatalf("GetRecords record %v", r0)
		}
		if ms := epochMsTag(t, "ApproximateArrivalTimestamp", r0["ApproximateArrivalTimestamp"]); ms < before.UnixMilli() || ms > time.Now().UnixMilli() {
			t.Fatalf("ApproximateArrivalTimestamp %d ms is not now", ms)
		}
		if next, _ := out["NextShardIterator"].(string); next == "" || out["MillisBehindLatest"] != uint64(0) {
			t.Fatalf("GetRecords tail: %v", out)
		}

		// DescribeStream: nested structures and a creation timestamp.
		status, out, _ = cborCall(t, c, e.addr, "DescribeStream", new(javaCBOR).start().key("StreamName").text(name).end().b)
		desc, _ := out["StreamDescription"].(map[any]any)
		if status != 200 || desc["StreamName"] != name || desc["StreamStatus"] != "ACTIVE" || desc["HasMoreShards"] != false {
			t.Fatalf("DescribeStream: %d %v", status, out)
		}
		if ms := epochMsTag(t, "StreamCreationTimestamp", desc["StreamCreationTimestamp"]); ms < before.UnixMilli()-1000 {
			t.Fatalf("StreamCreationTimestamp %d", ms)
		}
		shards, _ := desc["Shards"].([]any)
		if len(shards) != 1 || shards[0].(map[any]any)["ShardId"] != "shardId-000000000000" {
			t.Fatalf("DescribeStream shards %v", desc["Shards"])
		}

		// An error, in CBOR, with AWS's status.
		status, out, _ = cborCall(t, c, e.addr, "DescribeStream", new(javaCBOR).start().key("StreamName").text("nope").end().b)
		if status != 400 || out["__type"] != wire.ResourceNotFound || out["message"] != "Stream nope under account 000000000000 not found." {
			t.Fatalf("error: %d %v", status, out)
		}
		// A wrong type is a SerializationException.
		status, out, _ = cborCall(t, c, e.addr, "PutRecord", new(javaCBOR).start().key("StreamName").int(7).end().b)
		if status != 400 || out["__type"] != wire.Serialization {
			t.Fatalf("wrong type: %d %v", status, out)
		}
	})
}
