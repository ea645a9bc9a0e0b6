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

// TestGetRecordsStreamMatchesEncoders reads the same large page again and
// again and checks, in JSON and in CBOR, that the hand-written encoding
// equals the reference (JSON: it parses and holds the records; CBOR: the
// bytes CBOREncMode writes for the page's wire shape, as the Java SDK
// reads them), and that the stream announces its length and gives exactly
// its bytes, read through WriteTo and through Read with buffers of many
// odd sizes. The page has partition keys that need escaping, records of
// many sizes, an empty one, one larger than a chunk, encrypted records,
// and the tail of an open shard and of a closed one (child shards).
func TestGetRecordsStreamMatchesEncoders(t *testing.T) {
	s := newTestService(t)
	st := mustCreateStream(t, s, "page")
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []shard.Record
	var keys []shard.HashKey
	for i := 0; i < 400; i++ {
		size := rng.IntN(2000)
		switch i {
		case 200:
			size = wire.StreamChunkBytes + 1000 // alone past a chunk
		case 300:
			size = 0
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
	check := func(t *testing.T, c wire.Codec, kms bool) {
		o := page()
		o.kms = kms
		var want []byte
		if _, isCBOR := c.(wire.CBOR); isCBOR {
			ref, err := wire.CBOREncMode.Marshal(cborReference(o))
			if err != nil {
				t.Fatal(err)
			}
			if got := o.AppendCBOR(nil); !bytes.Equal(got, ref) {
				t.Fatalf("AppendCBOR wrote %d bytes that differ from the encoder's %d (first at %d)", len(got), len(ref), firstDiff(got, ref))
			}
			want = ref
		} else {
			want = o.AppendJSON(nil)
			var decoded struct{ Records []struct{ Data []byte } }
			if err := json.Unmarshal(want, &decoded); err != nil || len(decoded.Records) != len(recs) || !bytes.Equal(decoded.Records[200].Data, recs[200].Data) {
				t.Fatalf("AppendJSON's page: %d records, %v", len(decoded.Records), err)
			}
		}
		iterator := append([]byte(nil), o.nextIterator...)
		o.release()
		// Each read issues its own iterator: give the others the first's.
		samePage := func() *getRecordsOutput {
			o := page()
			o.nextIterator = append(o.nextIterator[:0], iterator...)
			o.kms = kms
			return o
		}

		stream := samePage().Stream(c)
		if stream == nil {
			t.Fatalf("a page of %d bytes is not streamed", len(want))
		}
		if stream.Size() != len(want) {
			t.Fatalf("stream announces %d bytes, the page is %d", stream.Size(), len(want))
		}
		var got bytes.Buffer
		if _, err := stream.WriteTo(&got); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("WriteTo wrote %d bytes that differ from the page's %d (first at %d)", got.Len(), len(want), firstDiff(got.Bytes(), want))
		}

		stream = samePage().Stream(c)
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
			t.Fatalf("Read read %d bytes that differ from the page's %d", got.Len(), len(want))
		}
	}
	codecs := []wire.Codec{wire.JSON{}, wire.CBOR{}}
	for _, c := range codecs {
		t.Run(c.ContentType()+"/open", func(t *testing.T) { check(t, c, false) })
		t.Run(c.ContentType()+"/encrypted", func(t *testing.T) { check(t, c, true) })
	}
	if err := st.UpdateShardCount(2); err != nil {
		t.Fatal(err)
	}
	o := page()
	atEnd, children := o.res.AtEnd, len(o.children)
	o.release()
	if !atEnd || children == 0 {
		t.Fatalf("the page of the closed shard: at end %v, %d children", atEnd, children)
	}
	for _, c := range codecs {
		t.Run(c.ContentType()+"/closed", func(t *testing.T) { check(t, c, false) })
	}

	// A small page is encoded at once.
	o = page()
	defer o.release()
	o.res.Records = o.res.Records[:3]
	for _, c := range codecs {
		if o.Stream(c) != nil {
			t.Fatalf("a page of three small records is streamed in %s", c.ContentType())
		}
	}
}

// firstDiff is the first offset where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// getRecordsShape is GetRecords' response in its wire shape, which
// CBOREncMode encodes as AppendCBOR must.
type getRecordsShape struct {
	Records            []eventRecord
	NextShardIterator  string `json:",omitempty"`
	MillisBehindLatest int64
	ChildShards        []childShard `json:",omitempty"`
}

// cborReference copies o into its wire shape.
func cborReference(o *getRecordsOutput) *getRecordsShape {
	out := &getRecordsShape{Records: referenceRecords(o.res.Records, o.shard.SeqID(), o.kms), MillisBehindLatest: o.res.MillisBehind}
	if o.res.AtEnd {
		for _, c := range o.children {
			parents := []string{c.Parent()}
			if p := c.AdjacentParent(); p != "" {
				parents = append(parents, p)
			}
			r := c.HashRange()
			out.ChildShards = append(out.ChildShards, childShard{ShardId: c.ID(), ParentShards: parents,
				HashKeyRange: hashKeyRange{StartingHashKey: r.Start.String(), EndingHashKey: r.End.String()}})
		}
	} else {
		out.NextShardIterator = string(o.nextIterator)
	}
	return out
}
