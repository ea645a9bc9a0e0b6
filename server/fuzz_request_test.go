package server

import (
	"bytes"
	"encoding/json"
	"sort"
	"testing"

	"github.com/shardlog/shardlog/server/ops"
	"github.com/shardlog/shardlog/shard"
)

// FuzzRequest sends arbitrary bodies to every operation of the operation
// table through the same path as both transports (Server.handle) against a
// real store: decoding, validation and the handler must never panic, never
// answer InternalFailure for client input, and always answer a JSON body (an
// object with "__type" for errors).
func FuzzRequest(f *testing.F) {
	operations := ops.Operations()
	names := make([]string, 0, len(operations))
	for target := range operations {
		names = append(names, target)
	}
	sort.Strings(names)
	seeds := []string{
		`{}`, `null`, `[]`, `"x"`, `{"StreamName":"s"}`, `{"StreamName":"s","ShardCount":1}`,
		`{"StreamName":"s","Data":"AAE=","PartitionKey":"k"}`,
		`{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"}]}`,
		`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"1"}`,
		`{"ShardIterator":"AAAA","Limit":1}`, `{"Limit":-1}`, `{"StreamName":"s","Tags":{"k":"v"}}`,
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c"}`,
		`{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1"}`,
		`{"StreamName":"s","Timestamp":1.5e9,"ShardIteratorType":"AT_TIMESTAMP","ShardId":"shardId-000000000000"}`,
	}
	for i := range names {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}

	so := shard.DefaultOptions(f.TempDir())
	so.Segment.MaxSegmentBytes = 64 << 10 // streams are created by the thousand
	store, err := shard.Open(so)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	srv := New(store, Options{ShardLimit: 16, OnDemandStreamLimit: 4})
	if _, err := store.CreateStream(shard.StreamConfig{Name: "s", ShardCount: 2}); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		target := names[int(op)%len(names)]
		x := exchange{method: "POST", target: target, contentType: "application/x-amz-json-1.1", body: body}
		srv.handle(&x)
		if x.stream != nil {
			var b bytes.Buffer
			_, _ = x.stream.WriteTo(&b)
			x.closeStream()
			x.out = b.Bytes()
		}
		if x.status >= 500 {
			t.Fatalf("%s %q: HTTP %d %s", target, body, x.status, x.out)
		}
		if x.status == 200 && len(x.out) == 0 {
			return // an operation without output (emptyOutput)
		}
		var answer map[string]any
		if err := json.Unmarshal(x.out, &answer); err != nil {
			t.Fatalf("%s %q: HTTP %d answer is not a JSON object (%v): %q", target, body, x.status, err, x.out)
		}
		if x.status != 200 {
			if typ, _ := answer["__type"].(string); typ == "" {
				t.Fatalf("%s %q: HTTP %d without a __type: %s", target, body, x.status, x.out)
			}
		}
	})
}
