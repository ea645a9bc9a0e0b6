package ops

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

const (
	// maxPutRecords is the most records one PutRecords may carry.
	maxPutRecords = 500
	// maxPutRecordsBytes is the most data plus partition keys one PutRecords
	// may carry.
	maxPutRecordsBytes = 10 << 20
)

type putRecordsInput struct {
	Records    []putRecordsEntry
	StreamName *string
	StreamARN  *string

	// The buffers the JSON fast path decodes Records into (the entries,
	// the partition and explicit hash keys, the decoded data), kept by
	// reset for the next request that takes this input from the pool.
	entries []putRecordsEntry
	keys    []string
	arena   []byte
}

// maxKeptArena bounds the decoded-data buffer a pooled input keeps: a
// larger one, from an unusually large request, goes to the collector.
const maxKeptArena = 1 << 20

// reset empties the input for the handler's pool but keeps its buffers,
// cleared so that nothing of the request (the body its keys alias) stays
// reachable.
func (in *putRecordsInput) reset() {
	entries, keys, arena := in.entries, in.keys, in.arena
	clear(entries)
	clear(keys)
	if cap(arena) > maxKeptArena {
		arena = nil
	}
	*in = putRecordsInput{entries: entries[:0], keys: keys[:0], arena: arena[:0]}
}

type putRecordsEntry struct {
	Data            []byte
	ExplicitHashKey *string
	PartitionKey    *string
}

// putRecordsOutput is PutRecords' response, pooled with its scratch slices.
type putRecordsOutput struct {
	recs    []shard.Record
	keys    []shard.HashKey
	results []shard.PutResult
	failed  int
	kms     bool
	scratch putScratch // for the limits emulator
	// seqs format each shard's run of positions incrementally, the shard
	// of index i with seqs[i%len(seqs)]. Shards that share one take turns
	// formatting from scratch, and a formatter left from an earlier request
	// does too: SeqFormatter checks the shard and position it is given.
	seqs [16]shard.SeqFormatter
}

// appendSeq appends the sequence number of result r.
func (o *putRecordsOutput) appendSeq(dst []byte, r *shard.PutResult) []byte {
	return o.seqs[r.Shard.Index()%len(o.seqs)].Append(dst, r.Shard.SeqID(), r.Seq)
}

var putRecordsOutputs = sync.Pool{New: func() any { return new(putRecordsOutput) }}

// putRecords answers PutRecords: every record is routed and appended, shard
// by shard, and answered in request order.
func (s *Service) putRecords(in *putRecordsInput) (*putRecordsOutput, error) {
	began := time.Now()
	var v wire.Validator
	v.NotNull("records", in.Records != nil)
	v.ListLen("records", len(in.Records), in.Records != nil, 1, maxPutRecords, func() string { return showEntries(in.Records) })
	for i := range in.Records {
		r := &in.Records[i]
		if r.PartitionKey != nil && r.Data != nil && len(r.Data) <= maxDataBytes {
			if n := len(*r.PartitionKey); n >= 1 && n <= maxPartitionKeyChars &&
				(r.ExplicitHashKey == nil || wire.HashKeyPattern.MatchString(*r.ExplicitHashKey)) {
				continue // the common case, without building field names
			}
		}
		field := "records." + strconv.Itoa(i+1) + ".member."
		v.NotNull(field+"partitionKey", r.PartitionKey != nil)
		v.Str(field+"partitionKey", r.PartitionKey, 1, maxPartitionKeyChars, nil)
		v.NotNull(field+"data", r.Data != nil)
		v.Blob(field+"data", r.Data, maxDataBytes)
		v.Str(field+"explicitHashKey", r.ExplicitHashKey, 0, -1, wire.HashKeyPattern)
	}
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needWrite)
	if err != nil {
		return nil, err
	}
	info := st.Info()
	out := putRecordsOutputs.Get().(*putRecordsOutput)
	out.kms = info.EncryptionType == "KMS"
	total := 0
	for i := range in.Records {
		r := &in.Records[i]
		total += len(r.Data) + len(*r.PartitionKey)
		if len(r.Data)+len(*r.PartitionKey) > info.MaxRecordSizeKiB<<10 { // the field name only for the error
			if err := checkRecordSize("records."+strconv.Itoa(i+1)+".member.data", r.Data, *r.PartitionKey, info.MaxRecordSizeKiB); err != nil {
				out.release()
				return nil, err
			}
		}
		key, err := routingKey(r.PartitionKey, r.ExplicitHashKey)
		if err != nil {
			out.release()
			return nil, err
		}
		rec := shard.Record{PartitionKey: wire.S2B(*r.PartitionKey), Data: r.Data}
		if r.ExplicitHashKey != nil {
			rec.ExplicitHashKey = wire.S2B(*r.ExplicitHashKey)
		}
		out.recs = append(out.recs, rec)
		out.keys = append(out.keys, key)
	}
	if total > maxPutRecordsBytes {
		out.release()
		return nil, wire.Errorf(wire.InvalidArgument, "Records size exceeds %d bytes: the request carries %d bytes of data and partition keys.", maxPutRecordsBytes, total)
	}
	out.results = slices.Grow(out.results[:0], len(out.recs))[:len(out.recs)]
	if s.limits.Load().Throughput {
		if s.throttleWrites(st, out.recs, out.keys, out.results) {
			putAdmitted(st, out.recs, out.keys, out.results, &out.scratch)
		}
	} else {
		st.Put(out.recs, out.keys, out.results)
	}
	for i := range out.results {
		if err := out.results[i].Err; err != nil {
			if errors.Is(err, shard.ErrBusy) {
				out.results[i].Err = s.throttled(st, out.results[i].Shard)
				err = out.results[i].Err
			}
			out.failed++
			if !isThrottled(err) {
				s.log.Error().Err(err).Str("op", "PutRecords").Str("stream", st.Name()).Msg("record failed")
			}
		}
	}
	s.metrics.ObservePutRecords(st, out.recs, out.results, isThrottled, began)
	return out, nil
}

// showEntries prints a Records list as AWS does in validation messages.
func showEntries(recs []putRecordsEntry) string {
	return wire.ShowItems('[', ']', len(recs), func(i int) string {
		n, key := strconv.Itoa(len(recs[i].Data)), ""
		if recs[i].PartitionKey != nil {
			key = wire.Truncate(*recs[i].PartitionKey, wire.MaxQuotedBytes)
		}
		return "PutRecordsRequestEntry(Data=java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "], PartitionKey=" + key + ")"
	})
}

// release returns the output and its scratch to the pool.
func (o *putRecordsOutput) release() {
	clear(o.recs)
	clear(o.results)
	o.recs, o.keys, o.results = o.recs[:0], o.keys[:0], o.results[:0]
	o.failed, o.kms = 0, false
	putRecordsOutputs.Put(o)
}

// AppendJSON encodes the response without reflection.
func (o *putRecordsOutput) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"FailedRecordCount":`...)
	dst = strconv.AppendInt(dst, int64(o.failed), 10)
	dst = append(dst, `,"Records":[`...)
	for i := range o.results {
		r := &o.results[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if r.Err != nil {
			code, msg := recordError(r.Err)
			dst = append(dst, `{"ErrorCode":"`...)
			dst = append(dst, code...)
			dst = append(dst, `","ErrorMessage":`...)
			dst = wire.AppendJSONString(dst, msg)
			dst = append(dst, '}')
			continue
		}
		dst = append(dst, `{"SequenceNumber":"`...)
		dst = o.appendSeq(dst, r)
		dst = append(dst, `","ShardId":"`...)
		dst = append(dst, r.Shard.ID()...)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `],"EncryptionType":`...)
	if o.kms {
		return append(dst, `"KMS"}`...)
	}
	return append(dst, `"NONE"}`...)
}

// AppendCBOR encodes the response without reflection, as CBOREncMode
// encodes its wire shape: a map of FailedRecordCount, Records (each a map
// of SequenceNumber and ShardId, or of ErrorCode and ErrorMessage) and
// EncryptionType.
func (o *putRecordsOutput) AppendCBOR(dst []byte) []byte {
	dst = wire.AppendCBORHead(dst, wire.CBORMap, 3)
	dst = append(dst, cborFailedCount...)
	dst = wire.AppendCBORInt(dst, int64(o.failed))
	dst = append(dst, cborRecords...)
	dst = wire.AppendCBORHead(dst, wire.CBORArray, uint64(len(o.results)))
	var digits [64]byte
	for i := range o.results {
		r := &o.results[i]
		dst = wire.AppendCBORHead(dst, wire.CBORMap, 2)
		if r.Err != nil {
			code, msg := recordError(r.Err)
			dst = append(dst, cborErrorCode...)
			dst = wire.AppendCBORText(dst, code)
			dst = append(dst, cborErrorMessage...)
			dst = wire.AppendCBORText(dst, msg)
			continue
		}
		dst = append(dst, cborSeqNumber...)
		dst = wire.AppendCBORText(dst, o.appendSeq(digits[:0], r))
		dst = append(dst, cborShardID...)
		dst = wire.AppendCBORText(dst, r.Shard.ID())
	}
	dst = append(dst, cborEncryptionType...)
	if o.kms {
		return wire.AppendCBORText(dst, "KMS")
	}
	return wire.AppendCBORText(dst, "NONE")
}
