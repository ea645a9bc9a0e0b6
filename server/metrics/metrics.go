package metrics

import (
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/shardlog/shardlog/shard"
)

// Metrics at GET /metrics, in the Prometheus text format.
//
// Stream metrics carry CloudWatch's Kinesis metric names, prefixed with
// "kinesis_" and with the dot turned into an underscore (Prometheus names
// cannot hold dots), labelled by stream:
//
//	kinesis_IncomingBytes{stream}                      counter, bytes of data+key accepted (PutRecord and PutRecords)
//	kinesis_IncomingRecords{stream}                    counter, records accepted
//	kinesis_PutRecord_Bytes{stream}                    counter
//	kinesis_PutRecord_Latency{stream}                  histogram, milliseconds, every call that reached the stream
//	kinesis_PutRecord_Success{stream}                  counter of successful calls (CloudWatch's average = Success / Latency_count)
//	kinesis_PutRecords_Bytes / _TotalRecords / _SuccessfulRecords / _FailedRecords / _ThrottledRecords{stream}   counters
//	kinesis_PutRecords_Latency{stream}                 histogram, milliseconds
//	kinesis_PutRecords_Success{stream}                 counter of calls with no failed record
//	kinesis_GetRecords_Bytes / _Records{stream}        counters
//	kinesis_GetRecords_Latency{stream}                 histogram, milliseconds
//	kinesis_GetRecords_Success{stream}                 counter
//	kinesis_GetRecords_IteratorAgeMilliseconds{stream} gauge, MillisBehindLatest of the latest GetRecords
//	kinesis_ReadProvisionedThroughputExceeded{stream}  counter of throttled GetRecords calls
//	kinesis_WriteProvisionedThroughputExceeded{stream} counter of throttled records
//	kinesis_SubscribeToShardEvent_Bytes / _Records{stream}  counters
//	kinesis_SubscribeToShardEvent_MillisBehindLatest{stream} gauge
//	kinesis_SubscribeToShardEvent_Success{stream}      counter of events sent
//
// Daemon metrics:
//
//	shardlog_panics_total                              counter of requests that panicked (a bug; answered InternalFailure)
//	shardlog_accept_errors_total                       counter of temporary accept failures (out of file descriptors, ...)
//	shardlog_corrupt_record_reads_total{stream}        counter of GetRecords and SubscribeToShard reads that
//	                                                   stopped at records damaged on disk (InternalFailure)
//
// Shard-level metrics, for the shards of streams whose
// EnableEnhancedMonitoring names them (ALL or one by one), are
// kinesis_shard_<name>{stream,shard} with <name> one of IncomingBytes,
// IncomingRecords, OutgoingBytes, OutgoingRecords,
// WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded and
// IteratorAgeMilliseconds.
//
// The hot path does one sync.Map load keyed by the stream name (a string the
// Stream already holds, nothing is built) and then adds to counters resolved
// when the stream was first seen.

// ShardLevel are the shard-level metrics of Enable/DisableEnhancedMonitoring,
// in the service model's order; All stands for all of them. Never written.
var ShardLevel = []string{
	"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
}

// All names every shard-level metric.
const All = "ALL"

// latencyBucketsMs are the histogram bounds of the Latency metrics.
var latencyBucketsMs = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// Registry holds the metric set of one server. It is safe for concurrent
// use; a server creates its own.
type Registry struct {
	set     *vm.Set
	mu      sync.Mutex // serialises creating and dropping stream metrics
	streams sync.Map   // stream name -> *streamMetrics

	// Panics counts requests that panicked and were answered
	// InternalFailure (shardlog_panics_total): each one is a bug.
	Panics *vm.Counter
	// AcceptErrors counts temporary accept failures, such as running out
	// of file descriptors (shardlog_accept_errors_total).
	AcceptErrors *vm.Counter
	// BodyBudgetRefusals counts requests answered ServiceUnavailable
	// because the in-flight body budget stayed full
	// (shardlog_body_budget_refusals_total).
	BodyBudgetRefusals *vm.Counter
	// Unauthenticated counts requests refused by signature checks before
	// their body was read (shardlog_unauthenticated_requests_total).
	Unauthenticated *vm.Counter
	// H2ConnsRefused counts HTTP/2 connections closed because every HTTP/2
	// slot was taken (shardlog_h2_conns_refused_total).
	H2ConnsRefused *vm.Counter
}

// New returns a Registry with the daemon counters registered.
func New() *Registry {
	set := vm.NewSet()
	return &Registry{set: set, Panics: set.NewCounter("shardlog_panics_total"),
		AcceptErrors:       set.NewCounter("shardlog_accept_errors_total"),
		BodyBudgetRefusals: set.NewCounter("shardlog_body_budget_refusals_total"),
		Unauthenticated:    set.NewCounter("shardlog_unauthenticated_requests_total"),
		H2ConnsRefused:     set.NewCounter("shardlog_h2_conns_refused_total")}
}

// StreamMetrics are the pre-resolved metrics of one stream.
type StreamMetrics struct {
	st    *shard.Stream
	names []string // registered in the set, for unregistering

	incomingBytes, incomingRecords *vm.Counter

	putRecordBytes, putRecordSuccess *vm.Counter
	putRecordLatency                 *vm.PrometheusHistogram

	putRecordsBytes, putRecordsTotal, putRecordsOK, putRecordsFailed, putRecordsThrottled, putRecordsSuccess *vm.Counter
	putRecordsLatency                                                                                        *vm.PrometheusHistogram

	getRecordsBytes, getRecordsRecords, getRecordsSuccess *vm.Counter
	getRecordsLatency                                     *vm.PrometheusHistogram
	iteratorAge                                           *vm.Gauge

	readThrottled, writeThrottled *vm.Counter

	subscribeBytes, subscribeRecords, subscribeSuccess *vm.Counter
	subscribeBehind                                    *vm.Gauge

	// CorruptReads counts reads that stopped at records damaged on disk.
	CorruptReads *vm.Counter

	// enhanced is the set of shard-level metrics enabled, as a bitmask over
	// shardLevelMetrics; shards holds their per-shard metrics.
	enhanced atomicMask
	shards   sync.Map // *shard.Shard -> *shardMetrics
}

// shardMetrics are the enhanced (shard-level) metrics of one shard; a nil
// field is a metric not enabled.
type shardMetrics struct {
	incomingBytes, incomingRecords, outgoingBytes, outgoingRecords *vm.Counter
	writeThrottled, readThrottled                                  *vm.Counter
	iteratorAge                                                    *vm.Gauge
}

// Set returns the metric set, for the owner to add its own metrics to.
func (m *Registry) Set() *vm.Set { return m.set }

// Stream returns the metrics of st, creating them on first use. A stream
// recreated under the same name gets fresh metrics.
func (m *Registry) Stream(st *shard.Stream) *StreamMetrics {
	if v, ok := m.streams.Load(st.Name()); ok && v.(*StreamMetrics).st == st {
		return v.(*StreamMetrics)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.streams.Load(st.Name()); ok {
		sm := v.(*StreamMetrics)
		if sm.st == st {
			return sm
		}
		m.dropLocked(sm)
	}
	sm := &StreamMetrics{st: st}
	label := `{stream="` + st.Name() + `"}`
	counter := func(name string) *vm.Counter {
		n := "kinesis_" + name + label
		sm.names = append(sm.names, n)
		return m.set.NewCounter(n)
	}
	histogram := func(name string) *vm.PrometheusHistogram {
		n := "kinesis_" + name + label
		sm.names = append(sm.names, n)
		return m.set.NewPrometheusHistogramExt(n, latencyBucketsMs)
	}
	gauge := func(name string) *vm.Gauge {
		n := "kinesis_" + name + label
		sm.names = append(sm.names, n)
		return m.set.NewGauge(n, nil)
	}
	sm.incomingBytes, sm.incomingRecords = counter("IncomingBytes"), counter("IncomingRecords")
	sm.putRecordBytes, sm.putRecordSuccess = counter("PutRecord_Bytes"), counter("PutRecord_Success")
	sm.putRecordLatency = histogram("PutRecord_Latency")
	sm.putRecordsBytes, sm.putRecordsTotal = counter("PutRecords_Bytes"), counter("PutRecords_TotalRecords")
	sm.putRecordsOK, sm.putRecordsFailed = counter("PutRecords_SuccessfulRecords"), counter("PutRecords_FailedRecords")
	sm.putRecordsThrottled, sm.putRecordsSuccess = counter("PutRecords_ThrottledRecords"), counter("PutRecords_Success")
	sm.putRecordsLatency = histogram("PutRecords_Latency")
	sm.getRecordsBytes, sm.getRecordsRecords = counter("GetRecords_Bytes"), counter("GetRecords_Records")
	sm.getRecordsSuccess = counter("GetRecords_Success")
	sm.getRecordsLatency = histogram("GetRecords_Latency")
	sm.iteratorAge = gauge("GetRecords_IteratorAgeMilliseconds")
	sm.readThrottled = counter("ReadProvisionedThroughputExceeded")
	sm.writeThrottled = counter("WriteProvisionedThroughputExceeded")
	sm.subscribeBytes, sm.subscribeRecords = counter("SubscribeToShardEvent_Bytes"), counter("SubscribeToShardEvent_Records")
	sm.subscribeSuccess = counter("SubscribeToShardEvent_Success")
	sm.subscribeBehind = gauge("SubscribeToShardEvent_MillisBehindLatest")
	corrupt := "shardlog_corrupt_record_reads_total" + label
	sm.names = append(sm.names, corrupt)
	sm.CorruptReads = m.set.NewCounter(corrupt)
	sm.enhanced.store(maskOf(st.Info().EnhancedMetrics))
	m.streams.Store(st.Name(), sm)
	return sm
}

// dropLocked unregisters the metrics of sm (and of its shards). m.mu is held.
func (m *Registry) dropLocked(sm *StreamMetrics) {
	for _, n := range sm.names {
		m.set.UnregisterMetric(n)
	}
	sm.names = nil
	m.streams.CompareAndDelete(sm.st.Name(), sm)
}

// SetEnhanced records the shard-level metrics enabled on st, after
// Enable/DisableEnhancedMonitoring. Metrics of shards no longer enabled are
// dropped.
func (m *Registry) SetEnhanced(st *shard.Stream, enabled []string) {
	sm := m.Stream(st)
	mask := maskOf(enabled)
	if sm.enhanced.load() == mask {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sm.enhanced.store(mask)
	// Drop every shard's metrics; the next record recreates those enabled.
	var kept []string
	for _, n := range sm.names {
		if len(n) > len("kinesis_shard_") && n[:len("kinesis_shard_")] == "kinesis_shard_" {
			m.set.UnregisterMetric(n)
			continue
		}
		kept = append(kept, n)
	}
	sm.names = kept
	sm.shards.Clear()
}

// shard returns the enhanced metrics of sh, or nil when none is enabled.
func (m *Registry) shard(sm *StreamMetrics, sh *shard.Shard) *shardMetrics {
	mask := sm.enhanced.load()
	if mask == 0 || sh == nil {
		return nil
	}
	if v, ok := sm.shards.Load(sh); ok {
		return v.(*shardMetrics)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := sm.shards.Load(sh); ok {
		return v.(*shardMetrics)
	}
	label := `{stream="` + sm.st.Name() + `",shard="` + sh.ID() + `"}`
	x := &shardMetrics{}
	counter := func(metric string) *vm.Counter {
		if !mask.has(metric) {
			return nil
		}
		n := "kinesis_shard_" + metric + label
		sm.names = append(sm.names, n)
		return m.set.GetOrCreateCounter(n)
	}
	x.incomingBytes, x.incomingRecords = counter("IncomingBytes"), counter("IncomingRecords")
	x.outgoingBytes, x.outgoingRecords = counter("OutgoingBytes"), counter("OutgoingRecords")
	x.writeThrottled = counter("WriteProvisionedThroughputExceeded")
	x.readThrottled = counter("ReadProvisionedThroughputExceeded")
	if mask.has("IteratorAgeMilliseconds") {
		n := "kinesis_shard_IteratorAgeMilliseconds" + label
		sm.names = append(sm.names, n)
		x.iteratorAge = m.set.GetOrCreateGauge(n, nil)
	}
	sm.shards.Store(sh, x)
	return x
}

// Write writes every metric to w, after dropping the metrics of streams
// that no longer exist.
func (m *Registry) Write(w io.Writer, store *shard.Store) {
	m.mu.Lock()
	m.streams.Range(func(k, v any) bool {
		sm := v.(*StreamMetrics)
		if cur, err := store.Stream(k.(string)); err != nil || cur != sm.st {
			m.dropLocked(sm)
		}
		return true
	})
	m.mu.Unlock()
	m.set.WritePrometheus(w)
}

// ObservePutRecord records one PutRecord call that reached st: r and its
// result res, throttled when the write limit refused it.
func (m *Registry) ObservePutRecord(st *shard.Stream, r *shard.Record, res *shard.PutResult, throttled bool, began time.Time) {
	sm := m.Stream(st)
	sm.putRecordLatency.Update(msSince(began))
	if throttled {
		sm.writeThrottled.Inc()
		if x := m.shard(sm, res.Shard); x != nil && x.writeThrottled != nil {
			x.writeThrottled.Inc()
		}
		return
	}
	if res.Err != nil {
		return
	}
	n := uint64(len(r.Data) + len(r.PartitionKey))
	sm.putRecordSuccess.Inc()
	sm.putRecordBytes.Add(int(n))
	sm.incomingBytes.AddInt64(int64(n))
	sm.incomingRecords.Inc()
	if x := m.shard(sm, res.Shard); x != nil {
		x.incoming(n, 1)
	}
}

// ObservePutRecords records one PutRecords call that reached st; results
// are in request order, throttled ones those whose error throttled reports.
func (m *Registry) ObservePutRecords(st *shard.Stream, recs []shard.Record, results []shard.PutResult, throttled func(error) bool, began time.Time) {
	sm := m.Stream(st)
	sm.putRecordsLatency.Update(msSince(began))
	var ok, failed, refused, bytes int
	for i := range results {
		r := &results[i]
		var x *shardMetrics
		if sm.enhanced.load() != 0 {
			x = m.shard(sm, r.Shard)
		}
		switch {
		case r.Err == nil:
			n := len(recs[i].Data) + len(recs[i].PartitionKey)
			ok++
			bytes += n
			if x != nil {
				x.incoming(uint64(n), 1)
			}
		case throttled(r.Err):
			refused++
			failed++
			if x != nil && x.writeThrottled != nil {
				x.writeThrottled.Inc()
			}
		default:
			failed++
		}
	}
	sm.putRecordsTotal.Add(len(results))
	sm.putRecordsOK.Add(ok)
	sm.putRecordsFailed.Add(failed)
	sm.putRecordsThrottled.Add(refused)
	sm.writeThrottled.Add(refused)
	sm.putRecordsBytes.Add(bytes)
	sm.incomingBytes.Add(bytes)
	sm.incomingRecords.Add(ok)
	if failed == 0 {
		sm.putRecordsSuccess.Inc()
	}
}

// ObserveGetRecords records one GetRecords call on sh of st; res is nil
// when the call failed or was throttled.
func (m *Registry) ObserveGetRecords(st *shard.Stream, sh *shard.Shard, res *shard.ReadResult, throttled bool, began time.Time) {
	sm := m.Stream(st)
	sm.getRecordsLatency.Update(msSince(began))
	x := m.shard(sm, sh)
	if throttled {
		sm.readThrottled.Inc()
		if x != nil && x.readThrottled != nil {
			x.readThrottled.Inc()
		}
		return
	}
	if res == nil {
		return
	}
	bytes := 0
	for i := range res.Records {
		bytes += len(res.Records[i].Data)
	}
	sm.getRecordsSuccess.Inc()
	sm.getRecordsBytes.Add(bytes)
	sm.getRecordsRecords.Add(len(res.Records))
	sm.iteratorAge.Set(float64(res.MillisBehind))
	if x != nil {
		if x.outgoingBytes != nil {
			x.outgoingBytes.Add(bytes)
		}
		if x.outgoingRecords != nil {
			x.outgoingRecords.Add(len(res.Records))
		}
		if x.iteratorAge != nil {
			x.iteratorAge.Set(float64(res.MillisBehind))
		}
	}
}

// ObserveSubscribeEvent records one SubscribeToShard event sent to a
// consumer of st: records, their data bytes and MillisBehindLatest.
func (m *Registry) ObserveSubscribeEvent(st *shard.Stream, records, bytes int, millisBehind int64) {
	sm := m.Stream(st)
	sm.subscribeSuccess.Inc()
	sm.subscribeRecords.Add(records)
	sm.subscribeBytes.Add(bytes)
	sm.subscribeBehind.Set(float64(millisBehind))
}

func (x *shardMetrics) incoming(bytes, records uint64) {
	if x.incomingBytes != nil {
		x.incomingBytes.Add(int(bytes))
	}
	if x.incomingRecords != nil {
		x.incomingRecords.Add(int(records))
	}
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// metricMask is a set of shard-level metrics: bit i is ShardLevel[i].
type metricMask uint32

func maskOf(names []string) metricMask {
	var m metricMask
	for _, n := range names {
		if n == All {
			return 1<<len(ShardLevel) - 1
		}
		if i := slices.Index(ShardLevel, n); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func (m metricMask) has(name string) bool {
	i := slices.Index(ShardLevel, name)
	return i >= 0 && m&(1<<i) != 0
}

// atomicMask is a metricMask read on the hot path without a lock.
type atomicMask struct{ v atomic.Uint32 }

func (a *atomicMask) load() metricMask   { return metricMask(a.v.Load()) }
func (a *atomicMask) store(m metricMask) { a.v.Store(uint32(m)) }
