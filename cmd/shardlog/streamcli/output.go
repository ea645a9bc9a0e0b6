package streamcli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// jsonRecord is one line of tail --format json.
type jsonRecord struct {
	ShardID        string `json:"shardId"`
	SequenceNumber string `json:"sequenceNumber"`
	PartitionKey   string `json:"partitionKey"`
	// ArrivalTime is the approximate arrival time, RFC 3339 with
	// nanoseconds, in UTC.
	ArrivalTime string `json:"arrivalTime"`
	// DataEncoding says how Data holds the record's data: "text" (it is
	// valid UTF-8, and Data is it) or "base64".
	DataEncoding string `json:"dataEncoding"`
	Data         string `json:"data"`
}

// Values of jsonRecord.DataEncoding.
const (
	encodingText   = "text"
	encodingBase64 = "base64"
)

// recordWriter prints records, one per line, for readers of several
// shards at once: a page of one shard is written whole and flushed before
// another's. It is safe for concurrent use.
type recordWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	enc  *json.Encoder // nil: text
	last atomic.Int64  // when a record was last written (Unix ns), or the start
}

func newRecordWriter(w io.Writer, asJSON bool) *recordWriter {
	rw := &recordWriter{w: bufio.NewWriterSize(w, 64<<10)}
	if asJSON {
		rw.enc = json.NewEncoder(rw.w)
		rw.enc.SetEscapeHTML(false)
	}
	rw.last.Store(time.Now().UnixNano())
	return rw
}

// write prints recs, records of shard shardID, and flushes.
func (rw *recordWriter) write(shardID string, recs []types.Record) error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for _, r := range recs {
		if rw.enc == nil {
			rw.w.Write(r.Data)
			rw.w.WriteByte('\n')
			continue
		}
		if err := rw.enc.Encode(toJSONRecord(shardID, r)); err != nil {
			return err
		}
	}
	rw.last.Store(time.Now().UnixNano())
	return rw.w.Flush()
}

// idleFor is how long ago a record was last written (or the writer made).
func (rw *recordWriter) idleFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - rw.last.Load())
}

func toJSONRecord(shardID string, r types.Record) jsonRecord {
	j := jsonRecord{
		ShardID:        shardID,
		SequenceNumber: aws.ToString(r.SequenceNumber),
		PartitionKey:   aws.ToString(r.PartitionKey),
	}
	if r.ApproximateArrivalTimestamp != nil {
		j.ArrivalTime = r.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano)
	}
	if utf8.Valid(r.Data) {
		j.DataEncoding, j.Data = encodingText, string(r.Data)
	} else {
		j.DataEncoding, j.Data = encodingBase64, base64.StdEncoding.EncodeToString(r.Data)
	}
	return j
}
