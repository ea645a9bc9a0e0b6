package bench

import (
	"fmt"
	"io"
	"time"
)

// Workload names what a run does; see doc.go.
type Workload string

// The workloads.
const (
	Put    Workload = "put"
	PutOne Workload = "putone"
	Get    Workload = "get"
	E2E    Workload = "e2e"
	EFO    Workload = "efo"
)

// Options configures one run. Zero fields take the defaults of
// DefaultOptions at Run.
type Options struct {
	Workload Workload
	// Label names the target in reports ("shardlog", "kinesalite").
	Label string
	// Name names the run in reports; default: workload and record size.
	Name string
	// Endpoint is the server's URL, http or https.
	Endpoint string
	// AllowRemote permits an endpoint that is not loopback.
	AllowRemote bool
	// Stream is the stream to use; empty means a fresh one named after the
	// run. A stream the run created is deleted at its end unless KeepStream.
	Stream     string
	KeepStream bool
	// Shards is the shard count of a created stream.
	Shards int
	// Conns is the number of producer connections (one request in flight
	// each); readers use one connection per shard.
	Conns int
	// HTTP2 sends the API requests over HTTP/2 (prior knowledge, h2c, for
	// http; ALPN h2 for https), one connection per producer and reader, as
	// the AWS SDK for Java v2 speaks to Kinesis; default HTTP/1.1.
	HTTP2 bool
	// Duration bounds the measured phase (the put phase for get).
	Duration time.Duration
	// Records, when positive, stops producing after this many records.
	Records int64
	// RecordBytes is the size of each record's data, at least 24.
	RecordBytes int
	// Batch is the number of records per PutRecords (put, get's put phase,
	// e2e when above 1).
	Batch int
	// Keys is the number of distinct partition keys.
	Keys int
	// Rate, when positive, paces producers to this many records/s (e2e's
	// default is 1000).
	Rate int
	// PollSleep is the pause of a reader after an empty GetRecords.
	PollSleep time.Duration
	// GetLimit is GetRecords' Limit.
	GetLimit int
	// Consumers is the number of enhanced fan-out consumers efo registers,
	// each subscribed to every shard (default 1, at most 20).
	Consumers int
	// MaxRetries bounds the resends of a throttled record.
	MaxRetries int
	// ServerPID, when positive, is the server process whose CPU (with its
	// descendants') is measured from /proc.
	ServerPID int
	// Progress receives a live progress line every ProgressEvery; nil
	// means none. With ProgressInPlace the line is redrawn with \r.
	Progress        io.Writer
	ProgressEvery   time.Duration
	ProgressInPlace bool
	// Seed varies the fillers and partition keys.
	Seed uint64
	// Credentials, when set, sign every request (AWS); nil sends a dummy
	// SigV4 header that local servers accept (sign.go).
	Credentials *Credentials
}

// DefaultOptions returns the defaults: PutRecords of 500 × 100 B from 4
// connections into 4 shards of a local shardlog, for 10 s.
func DefaultOptions() Options {
	return Options{
		Workload:      Put,
		Label:         "target",
		Endpoint:      "http://127.0.0.1:4567",
		Shards:        4,
		Conns:         4,
		Duration:      10 * time.Second,
		RecordBytes:   100,
		Batch:         500,
		Keys:          1000,
		GetLimit:      10000,
		MaxRetries:    10,
		ProgressEvery: time.Second,
	}
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Workload == "" {
		o.Workload = d.Workload
	}
	if o.Label == "" {
		o.Label = d.Label
	}
	if o.Endpoint == "" {
		o.Endpoint = d.Endpoint
	}
	if o.Shards == 0 {
		o.Shards = d.Shards
		if o.Workload == EFO {
			o.Shards = 1
		}
	}
	if o.Conns == 0 {
		o.Conns = d.Conns
		if o.Workload == PutOne {
			o.Conns = 16
		}
		if o.Workload == E2E || o.Workload == EFO {
			o.Conns = 1
		}
	}
	if o.Duration == 0 {
		o.Duration = d.Duration
	}
	if o.RecordBytes == 0 {
		o.RecordBytes = d.RecordBytes
	}
	if o.Batch == 0 {
		o.Batch = d.Batch
		if o.Workload == E2E || o.Workload == EFO {
			o.Batch = 1
		}
	}
	if o.Workload == PutOne {
		o.Batch = 1
	}
	if o.Keys == 0 {
		o.Keys = d.Keys
	}
	if o.Rate == 0 && (o.Workload == E2E || o.Workload == EFO) {
		o.Rate = 1000
	}
	if o.Consumers == 0 {
		o.Consumers = 1
	}
	if o.GetLimit == 0 {
		o.GetLimit = d.GetLimit
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = d.MaxRetries
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = d.ProgressEvery
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("%s-%s", o.Workload, sizeName(o.RecordBytes))
		if o.HTTP2 {
			o.Name += "-h2"
		}
		if o.Workload == EFO {
			o.Name = fmt.Sprintf("efo-%dc-%s", o.Consumers, sizeName(o.RecordBytes))
		}
	}
	switch o.Workload {
	case Put, PutOne, Get, E2E, EFO:
	default:
		return o, fmt.Errorf("bench: unknown workload %q (put, putone, get, e2e, efo)", o.Workload)
	}
	switch {
	case o.Shards < 1:
		return o, fmt.Errorf("bench: shards %d: want at least 1", o.Shards)
	case o.Conns < 1:
		return o, fmt.Errorf("bench: conns %d: want at least 1", o.Conns)
	case o.Conns >= 1<<16:
		return o, fmt.Errorf("bench: conns %d: want fewer than 65536", o.Conns)
	case o.Duration < 0 || o.Records < 0 || o.Rate < 0:
		return o, fmt.Errorf("bench: duration, records and rate must not be negative")
	case o.RecordBytes < headerBytes:
		return o, fmt.Errorf("bench: record size %d: want at least %d (the id and checksum header)", o.RecordBytes, headerBytes)
	case o.Batch < 1 || o.Batch > 500:
		return o, fmt.Errorf("bench: batch %d: want 1 to 500", o.Batch)
	case o.Consumers < 1 || o.Consumers > maxConsumers:
		return o, fmt.Errorf("bench: consumers %d: want 1 to %d", o.Consumers, maxConsumers)
	case o.Keys < 1:
		return o, fmt.Errorf("bench: keys %d: want at least 1", o.Keys)
	case o.GetLimit < 1 || o.GetLimit > 10000:
		return o, fmt.Errorf("bench: get limit %d: want 1 to 10000", o.GetLimit)
	}
	if _, _, err := checkEndpoint(o.Endpoint, o.AllowRemote); err != nil {
		return o, err
	}
	return o, nil
}

// sizeName renders a byte count as 100B, 1KiB, 4KiB.
func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}
