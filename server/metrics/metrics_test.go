package metrics

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/shard"
)

// TestRegistryObservesAndDrops records a PutRecord and a PutRecords with
// one throttled record on a real stream, checks the stream metrics
// /metrics would show, then deletes the stream: its metrics go with it.
func TestRegistryObservesAndDrops(t *testing.T) {
	store, err := shard.Open(shard.DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.CreateStream(shard.StreamConfig{Name: "s", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	sh := st.Shards()[0]
	m := New()
	rec := shard.Record{Data: []byte("0123456789"), PartitionKey: []byte("pk")}
	m.ObservePutRecord(st, &rec, &shard.PutResult{Shard: sh}, false, time.Now())
	errThrottled := errors.New("throttled")
	m.ObservePutRecords(st, []shard.Record{rec, rec}, []shard.PutResult{{Shard: sh}, {Shard: sh, Err: errThrottled}},
		func(err error) bool { return err == errThrottled }, time.Now())

	var out bytes.Buffer
	m.Write(&out, store)
	for _, want := range []string{
		`kinesis_IncomingRecords{stream="s"} 2`,
		`kinesis_IncomingBytes{stream="s"} 24`,
		`kinesis_PutRecords_ThrottledRecords{stream="s"} 1`,
		`kinesis_WriteProvisionedThroughputExceeded{stream="s"} 1`,
		`kinesis_PutRecord_Success{stream="s"} 1`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %s in:\n%s", want, out.String())
		}
	}

	if err := store.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := store.Stream("s"); errors.Is(err, shard.ErrStreamNotFound) {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("the stream is not gone after 10 s")
		}
	}
	out.Reset()
	m.Write(&out, store)
	if strings.Contains(out.String(), `stream="s"`) {
		t.Errorf("metrics of a deleted stream are still written:\n%s", out.String())
	}
}
