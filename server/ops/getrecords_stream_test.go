package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// TestGetRecordsStreamMatchesAppendJSON reads the same large page three
// times and checks that the stream announces the length of AppendJSON's
// bytes and gives exactly them (read through WriteTo, and through Read
// with buffers of many odd sizes): partition
// keys that need escaping, records of many sizes, one larger than a chunk,
// encrypted records, and the tail of an open shard and of a closed one
// (child shards).
func TestGetRecordsStreamMatchesAppendJSON(t *testing.T) {
	s := newTestService(t)
	st := mustCreateStream(t, s, "page")
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []shard.Record
	var keys []shard.HashKey
	for i := 0; i < 400; i++ {
		size := rng.IntN(2000)
		if i == 200 {
			size = wire.StreamChunkBytes + 1000 // alone past a chunk
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		pk := []byte(fmt.Sprintf("key-%d\t\"quoted\"\\\x01é", i))
		recs = append(recs, shard.Record{PartitionKey: pk, Data: data})
		keys = append(keys, shard.HashPartitionKey(pk))
	}
	out := make([]shard.PutResult, len(recs))
	st.Put(recs, keys, out)
	for _, r := range out {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	page := func() *getRecordsOutput {
		t.Helper()
		it, err := s.getShardIterator(&getShardIteratorInput{StreamName: aws.String("page"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: aws.String("TRIM_HORIZON")})
		if err != nil {
			t.Fatal(err)
		}
		o, err := s.getRecords(&getRecordsInput{ShardIterator: &it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	check := func(t *testing.T, kms bool) {
		o := page()
		o.kms = kms
		want := o.AppendJSON(nil)
		iterator := append([]byte(nil), o.nextIterator...)
		o.release()
		// Each read issues its own iterator: give the others the first's.
		samePage := func() *getRecordsOutput {
			o := page()
			o.nextIterator = append(o.nextIterator[:0], iterator...)
			o.kms = kms
			return o
		}
		if !json.Valid(want) {
			t.Fatal("AppendJSON's page is not JSON")
		}
		var decoded struct{ Records []struct{ Data []byte } }
		if err := json.Unmarshal(want, &decoded); err != nil || len(decoded.Records) != len(recs) || !bytes.Equal(decoded.Records[200].Data, recs[200].Data) {
			t.Fatalf("AppendJSON's page: %d records, %v", len(decoded.Records), err)
		}

		stream := samePage().JSONStream()
		if stream == nil {
			t.Fatalf("a page of %d bytes is not streamed", len(want))
		}
		if stream.Size() != len(want) {
			t.Fatalf("stream announces %d bytes, AppendJSON wrote %d", stream.Size(), len(want))
		}
		var got bytes.Buffer
		if _, err := stream.WriteTo(&got); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("WriteTo wrote %d bytes that differ from AppendJSON's %d", got.Len(), len(want))
		}

		stream = samePage().JSONStream()
		got.Reset()
		buf := make([]byte, 70000)
		for n := 1; ; n = n*7%69997 + 1 {
			k, err := stream.Read(buf[:n])
			got.Write(buf[:k])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		stream.Close()
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("Read read %d bytes that differ from AppendJSON's %d", got.Len(), len(want))
		}
	}
	t.Run("open", func(t *testing.T) { check(t, false) })
	t.Run("encrypted", func(t *testing.T) { check(t, true) })
	if err := st.UpdateShardCount(2); err != nil {
		t.Fatal(err)
	}
	t.Run("closed", func(t *testing.T) {
		o := page()
		atEnd, children := o.res.AtEnd, len(o.children)
		o.release()
		if !atEnd || children == 0 {
			t.Fatalf("the page of the closed shard: at end %v, %d children", atEnd, children)
		}
		check(t, false)
	})

	// A small page is encoded at once.
	o := page()
	defer o.release()
	o.res.Records = o.res.Records[:3]
	if o.JSONStream() != nil {
		t.Fatal("a page of three small records is streamed")
	}
}
