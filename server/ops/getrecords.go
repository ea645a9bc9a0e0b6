package ops

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

const (
	// maxGetRecords is the largest Limit of GetRecords, and the default.
	maxGetRecords = 10000
	// maxGetRecordsBytes is the most record data one GetRecords returns.
	maxGetRecordsBytes = 10 << 20
)

type getRecordsInput struct {
	Limit         *int
	ShardIterator *string
	StreamARN     *string

	iter wire.Opened[wire.Iterator] // ShardIterator, opened once per request

	// What DecodeJSON points the members at, so that decoding allocates
	// nothing. The input is zeroed after each request.
	iteratorSlot, arnSlot string
	limitSlot             int
}

// iterator opens ShardIterator (once per request).
func (in *getRecordsInput) iterator(s *Service) (wire.Iterator, error) {
	return in.iter.Get(func() (wire.Iterator, error) { return s.tokens.OpenIterator(*in.ShardIterator) })
}

// sealedStream implements sealedRequest: the stream the iterator names.
func (in *getRecordsInput) sealedStream(s *Service) (string, bool, error) {
	if in.ShardIterator == nil {
		return "", false, nil
	}
	it, err := in.iterator(s)
	return it.Stream, true, err
}

// getRecordsOutput is GetRecords' response. Its records alias mapped
// segment memory held by res until release, which runs after encoding.
type getRecordsOutput struct {
	res          shard.ReadResult
	shard        *shard.Shard
	nextIterator []byte // nil at the end of a closed shard
	children     []*shard.Shard
	kms          bool // the stream is encrypted: records say so
}

var getRecordsOutputs = sync.Pool{New: func() any { return new(getRecordsOutput) }}

// getRecords answers GetRecords: records from the iterator's position on,
// and the iterator to continue with.
func (s *Service) getRecords(in *getRecordsInput) (*getRecordsOutput, error) {
	began := time.Now()
	var v wire.Validator
	v.IntRange("limit", in.Limit, 1, maxGetRecords)
	v.NotNull("shardIterator", in.ShardIterator != nil)
	v.Str("shardIterator", in.ShardIterator, 1, wire.MaxIteratorChars, nil)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	it, err := in.iterator(s)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if now.UnixMilli()-it.IssuedMs > s.opts.IteratorTTL.Milliseconds() {
		return nil, wire.Errorf(wire.ExpiredIterator, "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			amzTime(time.UnixMilli(it.IssuedMs)), amzTime(now), s.opts.IteratorTTL.Milliseconds())
	}
	if in.StreamARN != nil {
		if name, ok := s.store.StreamNameFromARN(*in.StreamARN); !ok || name != it.Stream {
			return nil, wire.Errorf(wire.InvalidArgument, "StreamARN %s does not match the stream of the ShardIterator.", *in.StreamARN)
		}
	}
	st, err := s.lookupStream(&it.Stream, nil, needAny)
	var ae *wire.APIError
	if errors.As(err, &ae) && ae.Type == wire.ResourceNotFound {
		return nil, s.shardNotFound(it.Stream, it.ShardID)
	} else if err != nil {
		return nil, err
	}
	sh, err := st.Shard(it.ShardID)
	if errors.Is(err, shard.ErrShardNotFound) || err == nil && sh.SeqID().EpochMs != it.ShardEpochMs {
		return nil, s.shardNotFound(it.Stream, it.ShardID)
	} else if err != nil {
		return nil, err
	}
	limit := maxGetRecords
	if in.Limit != nil {
		limit = *in.Limit
	}
	lim := s.limits.Load()
	if lim.Throughput && !s.limiter.AdmitRead(sh, lim) {
		s.metrics.ObserveGetRecords(st, sh, nil, true, began)
		return nil, s.throughputExceeded(st, sh)
	}
	out := getRecordsOutputs.Get().(*getRecordsOutput)
	if err := sh.Read(it.Pos, limit, maxGetRecordsBytes, &out.res); err != nil {
		out.release()
		s.metrics.ObserveGetRecords(st, sh, nil, false, began)
		if ae := s.corruptRecords("GetRecords", st, sh, err); ae != nil {
			return nil, ae
		}
		return nil, err
	}
	if lim.Throughput {
		s.limiter.ChargeRead(sh, dataBytes(out.res.Records), lim)
	}
	s.metrics.ObserveGetRecords(st, sh, &out.res, false, began)
	out.shard = sh
	out.kms = st.Info().EncryptionType == "KMS"
	if out.res.AtEnd {
		for _, c := range st.Shards() {
			if c.Parent() == sh.ID() || c.AdjacentParent() == sh.ID() {
				out.children = append(out.children, c)
			}
		}
	} else {
		it.Pos, it.IssuedMs = out.res.Next, now.UnixMilli()
		out.nextIterator = s.tokens.AppendIterator(out.nextIterator[:0], it)
	}
	return out, nil
}

// release drops the segment references and returns the output to its pool.
func (o *getRecordsOutput) release() {
	o.res.Release()
	o.shard = nil
	o.nextIterator = o.nextIterator[:0]
	clear(o.children)
	o.children = o.children[:0]
	o.kms = false
	getRecordsOutputs.Put(o)
}

// recordJSONOverhead bounds the bytes of one record's JSON besides its
// base64 data and partition key: keys, quotes, a 56-digit sequence number,
// a timestamp and the optional encryption type.
const recordJSONOverhead = 160

// streamMin is the size from which a response is streamed (Stream)
// rather than encoded into one buffer.
const streamMin = 64 << 10

// The JSON of a page around its records' values.
const (
	jsonRecordsHead = `{"Records":[`
	jsonDataKey     = `{"Data":`
	jsonKeyKey      = `,"PartitionKey":`
	jsonSeqKey      = `,"SequenceNumber":"`
	jsonTimeKey     = `","ApproximateArrivalTimestamp":`
	jsonKMS         = `,"EncryptionType":"KMS"`
)

// jsonLen is the exact length of the JSON response, computed without
// encoding the records' data.
func (o *getRecordsOutput) jsonLen() int {
	n := len(jsonRecordsHead)
	id := o.shard.SeqID()
	var seqs shard.SeqFormatter
	var digits [64]byte
	for i := range o.res.Records {
		r := &o.res.Records[i]
		if i > 0 {
			n++ // the comma
		}
		n += len(jsonDataKey) + wire.Base64Len(len(r.Data)) +
			len(jsonKeyKey) + wire.JSONStringLen(r.PartitionKey) +
			len(jsonSeqKey) + len(seqs.Append(digits[:0], id, r.Seq)) +
			len(jsonTimeKey) + wire.EpochMsLen(r.ArrivalMs) + len("}")
		if o.kms {
			n += len(jsonKMS)
		}
	}
	var tail [1024]byte
	return n + len(o.appendTail(tail[:0]))
}

// recordsSize bounds the bytes of records in JSON or (cbor) CBOR, plus
// room for a page's or an event's head and tail.
func recordsSize(records []shard.Record, cbor bool) int {
	n := 256
	for i := range records {
		r := &records[i]
		if cbor {
			n += len(r.Data) + len(r.PartitionKey) + recordCBOROverhead
		} else {
			n += (len(r.Data)+2)/3*4 + len(r.PartitionKey) + recordJSONOverhead
		}
	}
	return n
}

// size bounds the size of the response in JSON or (cbor) CBOR.
func (o *getRecordsOutput) size(cbor bool) int {
	return recordsSize(o.res.Records, cbor) + len(o.nextIterator)
}

// AppendJSON encodes the response straight from the mapped records. It
// sizes dst once for the whole page, so a page is not copied again and
// again as it grows.
func (o *getRecordsOutput) AppendJSON(dst []byte) []byte {
	dst = slices.Grow(dst, o.size(false))
	e := pageEncoder{o: o, next: -1}
	dst, _ = e.NextChunk(dst, math.MaxInt)
	return dst
}

// AppendCBOR encodes the response straight from the mapped records, as
// CBOREncMode would encode getRecordsShape.
func (o *getRecordsOutput) AppendCBOR(dst []byte) []byte {
	dst = slices.Grow(dst, o.size(true))
	e := pageEncoder{o: o, cbor: true, next: -1}
	dst, _ = e.NextChunk(dst, math.MaxInt)
	return dst
}

// Stream returns the response in codec c as a stream when it is large (a
// page of megabytes), of its exact length, which encodes it from the
// mapped records a chunk at a time as it is written and releases the
// output once written; nil otherwise, for AppendJSON or AppendCBOR.
func (o *getRecordsOutput) Stream(c wire.Codec) *wire.Stream {
	_, isCBOR := c.(wire.CBOR)
	if o.size(isCBOR) < streamMin {
		return nil
	}
	size := o.jsonLen()
	if isCBOR {
		size = o.cborLen()
	}
	e := pageEncoders.Get().(*pageEncoder)
	*e = pageEncoder{o: o, cbor: isCBOR, next: -1}
	return wire.NewStream(e, size)
}

// pageEncoder encodes a getRecordsOutput in JSON or CBOR, in chunks
// (wire.Chunker): the head, records from next on, then the tail.
type pageEncoder struct {
	o      *getRecordsOutput
	cbor   bool
	next   int                // the next record to encode; -1 before the head
	seqs   shard.SeqFormatter // the records of a page have consecutive positions
	digits [64]byte           // a sequence number, for CBOR's length head
}

var pageEncoders = sync.Pool{New: func() any { return new(pageEncoder) }}

// NextChunk implements wire.Chunker.
func (e *pageEncoder) NextChunk(dst []byte, limit int) ([]byte, bool) {
	o := e.o
	if e.next < 0 {
		if e.cbor {
			dst = o.appendCBORHead(dst)
		} else {
			dst = append(dst, jsonRecordsHead...)
		}
		e.next = 0
	}
	id := o.shard.SeqID()
	for ; e.next < len(o.res.Records); e.next++ {
		if len(dst) >= limit {
			return dst, true
		}
		r := &o.res.Records[e.next]
		if e.cbor {
			dst = appendCBORRecord(dst, r, e.seqs.Append(e.digits[:0], id, r.Seq), o.kms)
			continue
		}
		if e.next > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, jsonDataKey...)
		dst = wire.AppendBase64(dst, r.Data)
		dst = append(dst, jsonKeyKey...)
		dst = wire.AppendJSONString(dst, r.PartitionKey)
		dst = append(dst, jsonSeqKey...)
		dst = e.seqs.Append(dst, id, r.Seq)
		dst = append(dst, jsonTimeKey...)
		dst = wire.AppendEpochMs(dst, r.ArrivalMs)
		if o.kms {
			dst = append(dst, jsonKMS...)
		}
		dst = append(dst, '}')
	}
	if e.cbor {
		return o.appendCBORTail(dst), false
	}
	return o.appendTail(dst), false
}

// Release implements wire.Chunker: the stream is done with the output.
func (e *pageEncoder) Release() {
	e.o.release()
	*e = pageEncoder{}
	pageEncoders.Put(e)
}

// appendTail appends what follows the records: the child shards or the
// next iterator, and MillisBehindLatest.
func (o *getRecordsOutput) appendTail(dst []byte) []byte {
	dst = append(dst, ']')
	if o.res.AtEnd {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range o.children {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ShardId":`...)
			dst = wire.AppendJSONString(dst, c.ID())
			dst = append(dst, `,"ParentShards":[`...)
			dst = wire.AppendJSONString(dst, c.Parent())
			if p := c.AdjacentParent(); p != "" {
				dst = append(dst, ',')
				dst = wire.AppendJSONString(dst, p)
			}
			r := c.HashRange()
			dst = append(dst, `],"HashKeyRange":{"StartingHashKey":"`...)
			dst = append(dst, r.Start.String()...)
			dst = append(dst, `","EndingHashKey":"`...)
			dst = append(dst, r.End.String()...)
			dst = append(dst, `"}}`...)
		}
		dst = append(dst, ']')
	} else {
		dst = append(dst, `,"NextShardIterator":"`...)
		dst = append(dst, o.nextIterator...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, o.res.MillisBehind, 10)
	return append(dst, '}')
}

// amzTime formats t as AWS does in iterator expiry messages (Java's
// Date.toString in UTC): "Thu Jan 22 01:22:02 UTC 2015".
func amzTime(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 UTC 2006")
}
