package ops

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
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
	f.Fuzz(func(t *testing.T, body string) {
		var fast putRecordsInput
		if fast.DecodeJSON([]byte(body)) != nil {
			return
		}
		var slow putRecordsInput
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %s", err, body)
		}
		norm := func(in *putRecordsInput) {
			for i := range in.Records {
				if in.Records[i].Data != nil && len(in.Records[i].Data) == 0 {
					in.Records[i].Data = []byte{}
				}
			}
		}
		norm(&fast)
		norm(&slow)
		if len(slow.Records) > maxPutRecords+1 {
			slow.Records = slow.Records[:maxPutRecords+1] // the fast path stops building there
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v\nbody %s", fast, slow, body)
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
