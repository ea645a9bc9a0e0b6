package server

import (
	"errors"
	"strconv"
	"sync"
	"time"

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

	iter opened[iterator] // ShardIterator, opened once per request
}

// iterator opens ShardIterator (once per request).
func (in *getRecordsInput) iterator(s *Server) (iterator, error) {
	return in.iter.get(func() (iterator, error) { return s.openIterator(*in.ShardIterator) })
}

// sealedStream implements sealedRequest: the stream the iterator names.
func (in *getRecordsInput) sealedStream(s *Server) (string, bool, error) {
	if in.ShardIterator == nil {
		return "", false, nil
	}
	it, err := in.iterator(s)
	return it.stream, true, err
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
func (s *Server) getRecords(in *getRecordsInput) (*getRecordsOutput, error) {
	began := time.Now()
	var v validator
	v.intRange("limit", in.Limit, 1, maxGetRecords)
	v.notNull("shardIterator", in.ShardIterator != nil)
	v.str("shardIterator", in.ShardIterator, 1, maxIteratorChars, nil)
	v.streamARN("streamARN", in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	it, err := in.iterator(s)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if now.UnixMilli()-it.issuedMs > s.opts.IteratorTTL.Milliseconds() {
		return nil, apiErrorf(errExpiredIterator, "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			amzTime(time.UnixMilli(it.issuedMs)), amzTime(now), s.opts.IteratorTTL.Milliseconds())
	}
	if in.StreamARN != nil {
		if name, ok := s.store.StreamNameFromARN(*in.StreamARN); !ok || name != it.stream {
			return nil, apiErrorf(errInvalidArgument, "StreamARN %s does not match the stream of the ShardIterator.", *in.StreamARN)
		}
	}
	st, err := s.lookupStream(&it.stream, nil, needAny)
	var ae *APIError
	if errors.As(err, &ae) && ae.Type == errResourceNotFound {
		return nil, s.shardNotFound(it.stream, it.shardID)
	} else if err != nil {
		return nil, err
	}
	sh, err := st.Shard(it.shardID)
	if errors.Is(err, shard.ErrShardNotFound) || err == nil && sh.SeqID().EpochMs != it.shardEpochMs {
		return nil, s.shardNotFound(it.stream, it.shardID)
	} else if err != nil {
		return nil, err
	}
	limit := maxGetRecords
	if in.Limit != nil {
		limit = *in.Limit
	}
	lim := s.limits.Load()
	if lim.Throughput && !s.limiter.admitRead(sh, lim) {
		s.observeGetRecords(st, sh, nil, true, began)
		return nil, s.throughputExceeded(st, sh)
	}
	out := getRecordsOutputs.Get().(*getRecordsOutput)
	if err := sh.Read(it.pos, limit, maxGetRecordsBytes, &out.res); err != nil {
		out.release()
		s.observeGetRecords(st, sh, nil, false, began)
		if ae := s.corruptRecords("GetRecords", st, sh, err); ae != nil {
			return nil, ae
		}
		return nil, err
	}
	if lim.Throughput {
		s.limiter.chargeRead(sh, dataBytes(out.res.Records), lim)
	}
	s.observeGetRecords(st, sh, out, false, began)
	out.shard = sh
	out.kms = st.Info().EncryptionType == "KMS"
	if out.res.AtEnd {
		for _, c := range st.Shards() {
			if c.Parent() == sh.ID() || c.AdjacentParent() == sh.ID() {
				out.children = append(out.children, c)
			}
		}
	} else {
		it.pos, it.issuedMs = out.res.Next, now.UnixMilli()
		out.nextIterator = s.appendIterator(out.nextIterator[:0], it)
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

// appendJSON encodes the response straight from the mapped records.
func (o *getRecordsOutput) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"Records":[`...)
	id := o.shard.SeqID()
	var seqs shard.SeqFormatter // the records of a page have consecutive positions
	for i, r := range o.res.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Data":`...)
		dst = appendBase64(dst, r.Data)
		dst = append(dst, `,"PartitionKey":`...)
		dst = appendJSONString(dst, r.PartitionKey)
		dst = append(dst, `,"SequenceNumber":"`...)
		dst = seqs.Append(dst, id, r.Seq)
		dst = append(dst, `","ApproximateArrivalTimestamp":`...)
		dst = appendEpochMs(dst, r.ArrivalMs)
		if o.kms {
			dst = append(dst, `,"EncryptionType":"KMS"`...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if o.res.AtEnd {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range o.children {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ShardId":`...)
			dst = appendJSONString(dst, c.ID())
			dst = append(dst, `,"ParentShards":[`...)
			dst = appendJSONString(dst, c.Parent())
			if p := c.AdjacentParent(); p != "" {
				dst = append(dst, ',')
				dst = appendJSONString(dst, p)
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
