package ops

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// FuzzPutRecordsDecode checks the fast PutRecords decoder against
// encoding/json: whatever it accepts must decode identically.
func FuzzPutRecordsDecode(f *testing.F) {
	f.Add(`{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"},{"Data":"","PartitionKey":"ü","ExplicitHashKey":"12"}]}`)
	f.Add(`{"Records":null,"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`)
	f.Add(`{"Records":[{}, {"Data":null}]}`)
	f.Add(` { "Records" : [ { "PartitionKey" : "a\"b" } ] } `)
	f.Add(`{"Records":[{"Data":"!!"}]}`)
	f.Add(`{"Records":[],"StreamName":"a","StreamName":"b"}`)
	f.Add(`{"Records":[{"Data":"","PartitionKey":"k"}]}`)
	// Raw line breaks, which the base64 decoder skips and JSON refuses:
	// four of them keep the quanta whole.
	f.Add("{\"Records\":[{\"Data\":\"QUJD\n\n\r\nRA==\",\"PartitionKey\":\"k\"}]}")
	f.Add("{\"Records\":[{\"Data\":\"QUJDRA==\r\n\",\"PartitionKey\":\"k\"}]}")
	f.Add(`{"Records":[{"Data":"QUJD\nRA==","PartitionKey":"k"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var slow putRecordsInput
		slowErr := json.Unmarshal([]byte(body), &slow)
		norm := func(in *putRecordsInput) {
			in.entries, in.keys, in.arena = nil, nil, nil // the fast path's buffers
		}
		norm(&slow)
		if len(slow.Records) > maxPutRecords+1 {
			slow.Records = slow.Records[:maxPutRecords+1] // the fast path stops building there
		}
		// Into a new input, and into one reused from the handler's pool,
		// as the server does.
		var reused putRecordsInput
		if err := reused.DecodeJSON([]byte(`{"StreamName":"p","Records":[{"Data":"AAECAw==","PartitionKey":"k1","ExplicitHashKey":"7"},{"Data":"BA==","PartitionKey":"k2"}]}`)); err != nil {
			t.Fatal(err)
		}
		reused.reset()
		for _, fast := range []*putRecordsInput{new(putRecordsInput), &reused} {
			if fast.DecodeJSON([]byte(body)) != nil {
				continue
			}
			if slowErr != nil {
				t.Fatalf("fast path accepted what encoding/json rejects (%v): %s", slowErr, body)
			}
			norm(fast)
			if !reflect.DeepEqual(*fast, slow) {
				t.Fatalf("fast %+v\nslow %+v\nbody %s", *fast, slow, body)
			}
		}
	})
}

func FuzzPutRecordDecode(f *testing.F) {
	f.Add(`{"StreamName":"s","PartitionKey":"k","Data":"AAE="}`)
	f.Add(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","PartitionKey":"ü","Data":"","ExplicitHashKey":"12","SequenceNumberForOrdering":"1"}`)
	f.Add(`{"Data":null,"PartitionKey":null}`)
	f.Add(` { "PartitionKey" : "a\"b" , "Data" : "QQ==" } `)
	f.Add(`{"Data":"!!"}`)
	f.Add(`{"StreamName":"a","StreamName":"b"}`)
	f.Add(`{"streamname":"a"}`)
	f.Add("{\"Data\":\"\r\nQUJDRA==\r\n\"}")
	f.Add("{\"Data\":\"QUJDRA\n\n\n\n==\"}")
	f.Fuzz(func(t *testing.T, body string) {
		var fast putRecordInput
		if fast.DecodeJSON([]byte(body)) != nil {
			return
		}
		var slow putRecordInput
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %s", err, body)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v\nbody %s", fast, slow, body)
		}
	})
}

// TestPutRecordOutputJSON: the hand-written encoding of PutRecord's output
// is byte for byte what encoding/json writes for the same struct.
func TestPutRecordOutputJSON(t *testing.T) {
	for _, o := range []putRecordOutput{
		{ShardId: "shardId-000000000003", SequenceNumber: "49039859695685658495517785647037787851914786837991784449", EncryptionType: "NONE"},
		{ShardId: "shardId-000000000000", SequenceNumber: "1", EncryptionType: "KMS"},
		{},
	} {
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON = %s, want %s", got, want)
		}
	}
}

// TestPlainWord checks the eight-byte test of the string scanner against
// a byte-by-byte one, for every byte value at every position, beside plain
// bytes and beside each kind of special byte.
func TestPlainWord(t *testing.T) {
	plain := func(c byte) bool { return c != '"' && c != '\\' && c >= 0x20 && c < 0x80 }
	for _, fill := range []byte{'a', ' ', '~', '"', 0x1f, 0x80} {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := true
				for _, b := range w {
					want = want && plain(b)
				}
				if got := plainWord(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("plainWord(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}

// TestPutRecordsInputReuse decodes one request into a pooled input, resets
// it and decodes a smaller one without explicit hash keys: the second must
// decode exactly as into a new input, with nothing left of the first.
func TestPutRecordsInputReuse(t *testing.T) {
	first := `{"StreamName":"a","Records":[{"Data":"AAECAw==","PartitionKey":"k1","ExplicitHashKey":"7"},{"Data":"BAU=","PartitionKey":"k2"},{"Data":"Bg==","PartitionKey":"k3","ExplicitHashKey":"9"}]}`
	second := `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/b","Records":[{"Data":"CQ==","PartitionKey":"x"},{"Data":"","PartitionKey":"y"}]}`
	var pooled putRecordsInput
	if err := pooled.DecodeJSON([]byte(first)); err != nil {
		t.Fatal(err)
	}
	pooled.reset()
	if pooled.Records != nil || pooled.StreamName != nil || cap(pooled.entries) < 3 || cap(pooled.arena) == 0 {
		t.Fatalf("after reset: %+v", pooled)
	}
	if err := pooled.DecodeJSON([]byte(second)); err != nil {
		t.Fatal(err)
	}
	var fresh putRecordsInput
	if err := fresh.DecodeJSON([]byte(second)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pooled.Records, fresh.Records) || pooled.StreamName != nil || *pooled.StreamARN != *fresh.StreamARN {
		t.Fatalf("reused input decoded %+v, a new one %+v", pooled.Records, fresh.Records)
	}
	for i, r := range pooled.entries[:cap(pooled.entries)][len(pooled.Records):] {
		if r.Data != nil || r.PartitionKey != nil || r.ExplicitHashKey != nil {
			t.Fatalf("entry %d past the request: %+v", len(pooled.Records)+i, r)
		}
	}
}

// TestPutRecordsPastTheLimit: past maxPutRecords+1 entries the fast path
// builds nothing but still checks the syntax, so a body encoding/json
// refuses there (a raw line break or tab in a Data string) goes to it too,
// and so does one it accepts only by decoding an escape.
func TestPutRecordsPastTheLimit(t *testing.T) {
	body := func(bad string) string {
		var b strings.Builder
		b.WriteString(`{"StreamName":"s","Records":[`)
		for i := 0; i < 600; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			data := "QUJD"
			if i == 550 {
				data = bad
			}
			fmt.Fprintf(&b, `{"Data":"%s","PartitionKey":"k%d"}`, data, i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	var in putRecordsInput
	if err := in.DecodeJSON([]byte(body("QUJD"))); err != nil || len(in.Records) != maxPutRecords+1 {
		t.Fatalf("600 good entries: err %v, %d decoded, want %d", err, len(in.Records), maxPutRecords+1)
	}
	for _, bad := range []string{"QUJD\nRA==", "QU\tJD", "QUJD\r\n\r\n", `\u0051UJD`} {
		var in putRecordsInput
		if err := in.DecodeJSON([]byte(body(bad))); err == nil {
			t.Errorf("Data %q at entry 550: the fast path accepted the body", bad)
		}
	}
}

// TestPutRecordsOutputEncoders: AppendJSON and AppendCBOR of a PutRecords
// response, with records stored on 40 shards (more than appendSeq has
// formatters), a throttled one and a failed one, in an encrypted stream
// and not, are the bytes encoding/json and CBOREncMode write for its wire
// shape.
func TestPutRecordsOutputEncoders(t *testing.T) {
	s := newTestService(t)
	st, err := s.store.CreateStream(shard.StreamConfig{Name: "batch", ShardCount: 40})
	if err != nil {
		t.Fatal(err)
	}
	in := &putRecordsInput{StreamName: aws.String("batch")}
	for i := 0; i < 400; i++ {
		in.Records = append(in.Records, putRecordsEntry{Data: []byte{byte(i)}, PartitionKey: aws.String(fmt.Sprintf("pk-%d", i))})
	}
	for _, kms := range []bool{false, true} {
		o, err := s.putRecords(in)
		if err != nil {
			t.Fatal(err)
		}
		o.kms = kms
		o.results[3].Err = s.throttled(st, o.results[3].Shard)
		o.results[5].Err = errors.New("a disk failed")
		o.failed = 2
		ref := &putRecordsShape{FailedRecordCount: o.failed, EncryptionType: "NONE"}
		if kms {
			ref.EncryptionType = "KMS"
		}
		for i := range o.results {
			r := &o.results[i]
			if r.Err != nil {
				code, msg := recordError(r.Err)
				ref.Records = append(ref.Records, putRecordsResultEntry{ErrorCode: code, ErrorMessage: msg})
				continue
			}
			ref.Records = append(ref.Records, putRecordsResultEntry{SequenceNumber: r.Shard.SequenceNumber(r.Seq), ShardId: r.Shard.ID()})
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ref); err != nil {
			t.Fatal(err)
		}
		if got := string(o.AppendJSON(nil)) + "\n"; got != want.String() {
			t.Fatalf("AppendJSON = %s\nwant %s", got, want.String())
		}
		wantCBOR, err := wire.CBOREncMode.Marshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.AppendCBOR(nil); !bytes.Equal(got, wantCBOR) {
			t.Fatalf("AppendCBOR = % x\nwant % x", got, wantCBOR)
		}
		o.release()
	}
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

// FuzzPutRecordsDecodeCBOR checks the fast CBOR PutRecords decoder against
// CBORDecMode: whatever it accepts must decode identically.
func FuzzPutRecordsDecodeCBOR(f *testing.F) {
	type entry struct {
		Data            []byte
		PartitionKey    *string
		ExplicitHashKey *string `json:",omitempty"`
	}
	type request struct {
		StreamName *string `json:",omitempty"`
		StreamARN  *string `json:",omitempty"`
		Records    []entry
	}
	seed := func(v any) {
		b, err := wire.CBOREncMode.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(request{StreamName: aws.String("s"), Records: []entry{{Data: []byte{0, 1}, PartitionKey: aws.String("k")}, {Data: []byte{}, PartitionKey: aws.String("ü"), ExplicitHashKey: aws.String("12")}}})
	seed(request{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")})
	seed(map[string]any{"Records": []any{map[string]any{}, map[string]any{"Data": nil}}})
	seed(map[string]any{"Records": []any{map[string]any{"Data": "text, not bytes"}}})
	seed(map[string]any{"streamname": "a"})
	seed(map[string]any{"Records": []any{map[string]any{"PartitionKey": "k", "Data": make([]byte, 300)}}})
	f.Add([]byte{0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x9f, 0xff})                // an indefinite array
	f.Add([]byte{0xa1, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 0xff}) // not UTF-8
	f.Fuzz(func(t *testing.T, body []byte) {
		var slow putRecordsInput
		slowErr := wire.CBORDecMode.Unmarshal(body, &slow)
		if len(slow.Records) > maxPutRecords+1 {
			slow.Records = slow.Records[:maxPutRecords+1] // the fast path stops building there
		}
		var reused putRecordsInput
		if err := reused.DecodeCBOR(seedCBOR(t)); err != nil {
			t.Fatal(err)
		}
		reused.reset()
		for _, fast := range []*putRecordsInput{new(putRecordsInput), &reused} {
			if fast.DecodeCBOR(body) != nil {
				continue
			}
			if slowErr != nil {
				t.Fatalf("fast path accepted what CBORDecMode rejects (%v): % x", slowErr, body)
			}
			fast.entries, fast.keys, fast.arena = nil, nil, nil // the fast path's buffers
			if !reflect.DeepEqual(*fast, slow) {
				t.Fatalf("fast %+v\nslow %+v\nbody % x", *fast, slow, body)
			}
		}
	})
}

// seedCBOR is a PutRecords request of two records in CBOR.
func seedCBOR(t *testing.T) []byte {
	b, err := wire.CBOREncMode.Marshal(map[string]any{"StreamName": "p", "Records": []any{
		map[string]any{"Data": []byte{0, 1, 2, 3}, "PartitionKey": "k1", "ExplicitHashKey": "7"},
		map[string]any{"Data": []byte{4}, "PartitionKey": "k2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkPutRecordsDecode decodes a PutRecords request of 500 records of
// 100 bytes: JSON and CBOR by their fast paths, and CBOR by reflection
// (CBORDecMode), as before DecodeCBOR; and one of 500 records of 1 KiB as
// JSON, where finding the end of each Data string shows.
func BenchmarkPutRecordsDecode(b *testing.B) {
	type entry struct {
		Data         []byte
		PartitionKey string
	}
	type request struct {
		StreamName string
		Records    []entry
	}
	batch := func(size int) request {
		req := request{StreamName: "batch"}
		for i := 0; i < 500; i++ {
			req.Records = append(req.Records, entry{Data: bytes.Repeat([]byte{byte(i)}, size), PartitionKey: fmt.Sprintf("pk-%d", i)})
		}
		return req
	}
	req := batch(100)
	jsonBody, _ := json.Marshal(req)
	cborBody, _ := wire.CBOREncMode.Marshal(req)
	json1KiB, _ := json.Marshal(batch(1024))
	for _, c := range []struct {
		name   string
		decode func(in *putRecordsInput) error
	}{
		{"json", func(in *putRecordsInput) error { return in.DecodeJSON(jsonBody) }},
		{"json-1KiB", func(in *putRecordsInput) error { return in.DecodeJSON(json1KiB) }},
		{"cbor", func(in *putRecordsInput) error { return in.DecodeCBOR(cborBody) }},
		{"cbor-reflect", func(in *putRecordsInput) error { return wire.CBORDecMode.Unmarshal(cborBody, in) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var in putRecordsInput
			b.ReportAllocs()
			for b.Loop() {
				if err := c.decode(&in); err != nil || len(in.Records) != 500 {
					b.Fatal(err)
				}
				in.reset()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/500, "ns/record")
		})
	}
}
