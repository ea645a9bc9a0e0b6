package ops

import (
	"errors"
	"math/rand/v2"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// throttledError is the result of a record refused by the write limit, or
// by a shard with too many appends waiting (shard.ErrBusy). It is kept in
// shard.PutResult.Err and encoded as AWS encodes it.
type throttledError struct{ shard, stream, account string }

func (e *throttledError) Error() string {
	return "Rate exceeded for shard " + e.shard + " in stream " + e.stream + " under account " + e.account + "."
}

func isThrottled(err error) bool {
	var t *throttledError
	return errors.As(err, &t)
}

// recordError is the ErrorCode and ErrorMessage of a failed PutRecords entry.
func recordError(err error) (code, message string) {
	var t *throttledError
	if errors.As(err, &t) {
		return wire.ThroughputExceeded, t.Error()
	}
	return wire.InternalFailureType, "Internal service failure."
}

// InjectError reports whether this request is to fail (ErrorProbability).
func (s *Service) InjectError() bool {
	p := s.limits.Load().ErrorProbability
	return p > 0 && rand.Float64() < p
}

// ErrInjected is the answer to a request failed by error injection
// (Limits.ErrorProbability).
var ErrInjected = &wire.APIError{Type: wire.InternalFailureType, Message: "Injected failure (limits.error_probability)."}

// throttled is the result of a record refused by the write limit or by
// the store (shard.ErrBusy): ProvisionedThroughputExceededException, which
// every Kinesis client retries with backoff.
func (s *Service) throttled(st *shard.Stream, sh *shard.Shard) error {
	return &throttledError{shard: sh.ID(), stream: st.Name(), account: s.store.Options().AccountID}
}

// throttleWrites marks, in results, the records the write limit refuses,
// with results[i].Shard set to the shard they route to. It reports whether
// any record is left to append.
func (s *Service) throttleWrites(st *shard.Stream, recs []shard.Record, keys []shard.HashKey, results []shard.PutResult) bool {
	l := s.limits.Load()
	any := false
	for i := range recs {
		sh := st.Route(keys[i])
		results[i] = shard.PutResult{Shard: sh}
		if s.limiter.AdmitWrite(sh, len(recs[i].Data)+len(recs[i].PartitionKey), l) {
			any = true
			continue
		}
		results[i].Err = s.throttled(st, sh)
	}
	return any
}

// putAdmitted appends the records of recs that throttleWrites let through
// and fills their results; scratch is reused between calls.
func putAdmitted(st *shard.Stream, recs []shard.Record, keys []shard.HashKey, results []shard.PutResult, scratch *putScratch) {
	scratch.idx, scratch.recs, scratch.keys = scratch.idx[:0], scratch.recs[:0], scratch.keys[:0]
	for i := range results {
		if results[i].Err == nil {
			scratch.idx = append(scratch.idx, i)
			scratch.recs = append(scratch.recs, recs[i])
			scratch.keys = append(scratch.keys, keys[i])
		}
	}
	scratch.results = append(scratch.results[:0], make([]shard.PutResult, len(scratch.idx))...)
	st.Put(scratch.recs, scratch.keys, scratch.results)
	for j, i := range scratch.idx {
		results[i] = scratch.results[j]
	}
	clear(scratch.recs)
	clear(scratch.results)
}

// putScratch is the reusable scratch of putAdmitted.
type putScratch struct {
	idx     []int
	recs    []shard.Record
	keys    []shard.HashKey
	results []shard.PutResult
}

// throughputExceeded is GetRecords' and PutRecord's error when a shard's
// limit is reached, in AWS's words.
func (s *Service) throughputExceeded(st *shard.Stream, sh *shard.Shard) *wire.APIError {
	return &wire.APIError{Type: wire.ThroughputExceeded, Message: s.throttled(st, sh).Error()}
}

// dataBytes is the data of recs, in bytes: what GetRecords' limit counts.
func dataBytes(recs []shard.Record) int {
	n := 0
	for i := range recs {
		n += len(recs[i].Data)
	}
	return n
}
