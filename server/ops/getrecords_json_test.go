package ops

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzGetRecordsDecode checks the fast GetRecords decoder against
// encoding/json: whatever it accepts must decode identically.
func FuzzGetRecordsDecode(f *testing.F) {
	f.Add(`{"ShardIterator":"AAAA","Limit":10000}`)
	f.Add(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ShardIterator":"x","Limit":-0}`)
	f.Add(`{"Limit":null,"ShardIterator":null}`)
	f.Add(` { "Limit" : 7 , "ShardIterator" : "a\"b" } `)
	f.Add(`{"Limit":-5}`)
	f.Add(`{"Limit":1.0}`)
	f.Add(`{"Limit":1e3}`)
	f.Add(`{"Limit":012}`)
	f.Add(`{"Limit":99999999999999999999}`)
	f.Add(`{"Limit":"5"}`)
	f.Add(`{"Limit":1,"Limit":2}`)
	f.Add(`{"limit":5}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		var fast getRecordsInput
		if fast.DecodeJSON([]byte(body)) != nil {
			return
		}
		var slow getRecordsInput
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %s", err, body)
		}
		// The members only: the fast path points them into its slots.
		members := func(in *getRecordsInput) []any { return []any{in.Limit, in.ShardIterator, in.StreamARN} }
		if !reflect.DeepEqual(members(&fast), members(&slow)) {
			t.Fatalf("fast %+v\nslow %+v\nbody %s", fast, slow, body)
		}
	})
}

// TestGetRecordsDecodeFast: the bodies the SDKs send take the fast path.
func TestGetRecordsDecodeFast(t *testing.T) {
	for _, body := range []string{
		`{"ShardIterator":"AAAAAAAAAAE=","Limit":10000}`,
		`{"Limit":25,"ShardIterator":"AAAA","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		`{"ShardIterator":"AAAA"}`,
	} {
		var in getRecordsInput
		if err := in.DecodeJSON([]byte(body)); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if in.ShardIterator == nil || *in.ShardIterator == "" {
			t.Fatalf("%s: no iterator", body)
		}
	}
}
