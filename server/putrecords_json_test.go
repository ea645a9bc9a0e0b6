package server

import (
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
		if fast.decodeJSON([]byte(body)) != nil {
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
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v\nbody %s", fast, slow, body)
		}
	})
}
