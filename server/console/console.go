package console

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
	"github.com/valyala/fasthttp"
)

// The web console is a static page (index.html, app.js, style.css,
// embedded below, so the binary works offline) whose script calls the
// Kinesis JSON API at POST / like any other client, for listing, describing,
// creating and deleting streams and putting records. Three GET endpoints
// under /console/api/ serve what the API has no cheap call for:
//
//   - stats: server-sent events, one "stats" event per second with every
//     stream's shard count, retention, records and bytes per second, so the
//     stream list of 1,000 streams needs one connection, not 1,000
//     DescribeStreamSummary calls;
//   - segments?stream=S: the segment files of each shard of S, as JSON;
//   - tail?stream=S&shard=H&from=latest|trim_horizon: server-sent events,
//     one "records" event per read of the shard, woken by the shard's tail
//     notification (no polling). Each event's id is the position to resume
//     from, so EventSource's automatic reconnect (Last-Event-ID) loses no
//     record.
//
// The console is served by the HTTP/1.1 (fasthttp) side only: browsers do
// not speak cleartext HTTP/2.

//go:embed index.html app.js style.css
var assetFS embed.FS

const (
	// Prefix is the path the console is served under.
	Prefix = "/console"
	// consoleHeartbeat is how often an idle event stream sends a comment,
	// which finds closed connections.
	consoleHeartbeat = 15 * time.Second
	// consoleTailMaxData is the most bytes of one record's data a tail
	// event carries; the event states the full size.
	consoleTailMaxData = 64 << 10
	// consoleTailBatch bounds one tail event: records and bytes per read.
	consoleTailBatch      = 200
	consoleTailBatchBytes = 1 << 20
)

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Console serves the web console. It is safe for concurrent use.
type Console struct {
	store  *shard.Store
	log    zerolog.Logger
	assets map[string]asset // by URL path
	done   chan struct{}    // closed by close: event streams end
	once   sync.Once
}

// New returns the console of store, logging failures to log.
func New(store *shard.Store, log zerolog.Logger) *Console {
	c := &Console{store: store, log: log, assets: make(map[string]asset), done: make(chan struct{})}
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		body, err := assetFS.ReadFile(name)
		if err != nil {
			panic("BUG: console asset missing: " + name)
		}
		sum := sha256.Sum256(body)
		a := asset{
			body:        body,
			contentType: mime.TypeByExtension(path.Ext(name)),
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		if a.contentType == "" || name == "app.js" {
			a.contentType = "text/javascript; charset=utf-8"
		}
		c.assets[Prefix+"/"+name] = a
	}
	c.assets[Prefix] = c.assets[Prefix+"/index.html"]
	c.assets[Prefix+"/"] = c.assets[Prefix+"/index.html"]
	return c
}

// Close ends every event stream; nil-safe, idempotent (Shutdown).
func (c *Console) Close() {
	if c != nil {
		c.once.Do(func() { close(c.done) })
	}
}

// Serve answers ctx if its path is the console's and reports whether it did.
func (c *Console) Serve(ctx *fasthttp.RequestCtx) bool {
	p := wire.B2S(ctx.Path())
	if p != Prefix && !strings.HasPrefix(p, Prefix+"/") {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		c.fail(ctx, http.StatusMethodNotAllowed, "The console only answers GET.")
		return true
	}
	h := &ctx.Response.Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch p {
	case Prefix + "/api/stats":
		c.stats(ctx)
	case Prefix + "/api/segments":
		c.segments(ctx)
	case Prefix + "/api/tail":
		c.tail(ctx)
	default:
		a, ok := c.assets[p]
		if !ok {
			c.fail(ctx, http.StatusNotFound, "No such console page.")
			return true
		}
		// Everything the page loads comes from this server: no CDN, and
		// no inline script for an injected record to abuse.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.SetContentType(a.contentType)
		if string(ctx.Request.Header.Peek("If-None-Match")) == a.etag {
			ctx.SetStatusCode(http.StatusNotModified)
			return true
		}
		ctx.SetStatusCode(http.StatusOK)
		ctx.Response.SetBodyRaw(a.body)
	}
	return true
}

// fail answers a console endpoint with a JSON error in the API's shape.
func (c *Console) fail(ctx *fasthttp.RequestCtx, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"message": msg})
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBody(body)
}

// streamStats is one stream's row of a stats event. Field names are short:
// a 1,000-stream event goes out every second.
type streamStats struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Mode      string  `json:"mode"`
	Shards    int     `json:"shards"`    // open shards
	Retention int     `json:"retention"` // hours
	Records   uint64  `json:"records"`   // appended since creation, all shards
	Bytes     int64   `json:"bytes"`     // stored in segment files
	RecordsPS float64 `json:"rps"`       // records appended per second
	BytesPS   float64 `json:"bps"`       // growth of stored bytes per second
}

// Stats is one event of /console/api/stats: every stream at a time.
type Stats struct {
	TimeMs  int64         `json:"t"`
	Streams []streamStats `json:"streams"`
}

// sample returns every stream's counters, sorted by name, with rates
// against prev (the previous sample of the same connection, nil at first).
func (c *Console) sample(prev map[string]streamStats, dt time.Duration) Stats {
	streams := c.store.Streams()
	out := Stats{TimeMs: time.Now().UnixMilli(), Streams: make([]streamStats, 0, len(streams))}
	for _, st := range streams {
		info := st.Info()
		row := streamStats{
			Name:      info.Name,
			Status:    string(info.Status),
			Mode:      string(info.Mode),
			Shards:    info.OpenShardCount,
			Retention: info.RetentionHours,
		}
		for _, sh := range st.Shards() {
			row.Records += sh.Tail()
			for _, seg := range sh.Segments() {
				row.Bytes += seg.Bytes
			}
		}
		if p, ok := prev[row.Name]; ok && dt > 0 {
			sec := dt.Seconds()
			if row.Records > p.Records {
				row.RecordsPS = float64(row.Records-p.Records) / sec
			}
			if row.Bytes > p.Bytes {
				row.BytesPS = float64(row.Bytes-p.Bytes) / sec
			}
		}
		out.Streams = append(out.Streams, row)
	}
	return out
}

// startEvents sets the headers of a server-sent event stream. The stream
// outlives WriteTimeout: a zero deadline set by the handler tells fasthttp
// not to impose its own.
func startEvents(ctx *fasthttp.RequestCtx) {
	_ = ctx.SetWriteDeadline(time.Time{})
	ctx.Response.Header.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(http.StatusOK)
}

// writeEvent writes one event and flushes it; an error means the client is
// gone.
func writeEvent(w *bufio.Writer, event, id string, data []byte) error {
	if id != "" {
		w.WriteString("id: ")
		w.WriteString(id)
		w.WriteByte('\n')
	}
	w.WriteString("event: ")
	w.WriteString(event)
	w.WriteString("\ndata: ")
	w.Write(data) // JSON: no newline inside
	w.WriteString("\n\n")
	return w.Flush()
}

// stats streams one stats event per second until the client leaves or the
// server shuts down.
func (c *Console) stats(ctx *fasthttp.RequestCtx) {
	startEvents(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var prev map[string]streamStats
		last := time.Now()
		for {
			now := time.Now()
			st := c.sample(prev, now.Sub(last))
			last = now
			data, err := json.Marshal(st)
			if err != nil {
				c.log.Error().Err(err).Msg("console: encode stats")
				return
			}
			if writeEvent(w, "stats", "", data) != nil {
				return
			}
			prev = make(map[string]streamStats, len(st.Streams))
			for _, row := range st.Streams {
				prev[row.Name] = row
			}
			select {
			case <-tick.C:
			case <-c.done:
				return
			}
		}
	})
}

// Segments is the answer of /console/api/segments.
type Segments struct {
	Shards []shardSegments `json:"shards"`
}

type shardSegments struct {
	ShardID  string       `json:"shardId"`
	Segments []segmentRow `json:"segments"`
}

type segmentRow struct {
	Name       string `json:"name"`
	Base       uint64 `json:"base"`
	Next       uint64 `json:"next"`
	Bytes      int64  `json:"bytes"`
	FirstMs    int64  `json:"firstMs,omitempty"`
	LastMs     int64  `json:"lastMs,omitempty"`
	Sealed     bool   `json:"sealed"`
	Compressed bool   `json:"compressed"`
}

// segments answers the segment files of every retained shard of a stream.
func (c *Console) segments(ctx *fasthttp.RequestCtx) {
	st, ok := c.stream(ctx)
	if !ok {
		return
	}
	out := Segments{Shards: []shardSegments{}}
	for _, sh := range st.Shards() {
		row := shardSegments{ShardID: sh.ID(), Segments: []segmentRow{}}
		for _, si := range sh.Segments() {
			r := segmentRow{Name: si.Name, Base: si.Base, Next: si.Next, Bytes: si.Bytes, Sealed: si.Sealed, Compressed: si.Compressed}
			if !si.First.IsZero() {
				r.FirstMs, r.LastMs = si.First.UnixMilli(), si.Last.UnixMilli()
			}
			row.Segments = append(row.Segments, r)
		}
		out.Shards = append(out.Shards, row)
	}
	body, err := json.Marshal(out)
	if err != nil {
		c.log.Error().Err(err).Msg("console: encode segments")
		c.fail(ctx, http.StatusInternalServerError, "Internal failure.")
		return
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(http.StatusOK)
	ctx.Response.SetBody(body)
}

// stream resolves the stream query argument, answering the error itself.
func (c *Console) stream(ctx *fasthttp.RequestCtx) (*shard.Stream, bool) {
	name := string(ctx.QueryArgs().Peek("stream"))
	st, err := c.store.Stream(name)
	if err != nil {
		if errors.Is(err, shard.ErrStreamNotFound) {
			c.fail(ctx, http.StatusNotFound, "Stream "+strconv.Quote(name)+" not found.")
		} else {
			c.log.Error().Err(err).Str("stream", name).Msg("console: open stream")
			c.fail(ctx, http.StatusInternalServerError, "Internal failure.")
		}
		return nil, false
	}
	return st, true
}

// Record is one record of a tail event. Data is base64, cut to
// consoleTailMaxData bytes; Size is the full size.
type Record struct {
	SequenceNumber  string `json:"seq"`
	PartitionKey    string `json:"pk"`
	ExplicitHashKey string `json:"ehk,omitempty"`
	ArrivalMs       int64  `json:"ms"`
	Size            int    `json:"size"`
	Data            string `json:"data"`
}

// tail streams a shard's records as they arrive, from the tip (from=latest,
// the default), the oldest retained record (from=trim_horizon), or the
// position in Last-Event-ID when EventSource reconnects.
func (c *Console) tail(ctx *fasthttp.RequestCtx) {
	st, ok := c.stream(ctx)
	if !ok {
		return
	}
	sh, err := st.Shard(string(ctx.QueryArgs().Peek("shard")))
	if err != nil {
		c.fail(ctx, http.StatusNotFound, "Shard not found.")
		return
	}
	var pos uint64
	if last := ctx.Request.Header.Peek("Last-Event-ID"); len(last) > 0 {
		if pos, err = strconv.ParseUint(string(last), 10, 64); err != nil || pos > sh.Tail() {
			c.fail(ctx, http.StatusBadRequest, "Bad Last-Event-ID.")
			return
		}
	} else {
		switch from := string(ctx.QueryArgs().Peek("from")); from {
		case "", "latest":
			pos = sh.Tail()
		case "trim_horizon":
			if pos, err = sh.TrimHorizon(); err != nil {
				c.log.Error().Err(err).Str("shard", sh.ID()).Msg("console: trim horizon")
				c.fail(ctx, http.StatusInternalServerError, "Internal failure.")
				return
			}
		default:
			c.fail(ctx, http.StatusBadRequest, "from must be latest or trim_horizon.")
			return
		}
	}
	startEvents(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		c.pumpTail(w, sh, pos)
	})
}

// pumpTail writes records of sh from pos until the client leaves, the shard
// ends, or the server shuts down. It waits on the shard's tail notification
// between reads; the heartbeat only finds dead connections.
func (c *Console) pumpTail(w *bufio.Writer, sh *shard.Shard, pos uint64) {
	heartbeat := time.NewTicker(consoleHeartbeat)
	defer heartbeat.Stop()
	var res shard.ReadResult
	defer res.Release()
	batch := make([]Record, 0, consoleTailBatch)
	// An opening event tells the page where the tail starts.
	if writeEvent(w, "open", strconv.FormatUint(pos, 10), []byte(`{"seq":"`+sh.SequenceNumber(pos)+`"}`)) != nil {
		return
	}
	for {
		changed := sh.TailChanged() // before Read: an append in between wakes us
		if err := sh.Read(pos, consoleTailBatch, consoleTailBatchBytes, &res); err != nil {
			msg, _ := json.Marshal(map[string]string{"message": "The shard can no longer be read."})
			if !errors.Is(err, shard.ErrStreamNotFound) {
				c.log.Error().Err(err).Str("shard", sh.ID()).Uint64("seq", pos).Msg("console: tail read")
			}
			_ = writeEvent(w, "failure", "", msg)
			return
		}
		if len(res.Records) > 0 {
			batch = batch[:0]
			for _, r := range res.Records {
				data := r.Data
				if len(data) > consoleTailMaxData {
					data = data[:consoleTailMaxData]
				}
				batch = append(batch, Record{
					SequenceNumber:  sh.SequenceNumber(r.Seq),
					PartitionKey:    string(r.PartitionKey),
					ExplicitHashKey: string(r.ExplicitHashKey),
					ArrivalMs:       r.ArrivalMs,
					Size:            len(r.Data),
					Data:            base64.StdEncoding.EncodeToString(data),
				})
			}
			pos = res.Next
			res.Release()
			data, err := json.Marshal(batch)
			if err != nil || writeEvent(w, "records", strconv.FormatUint(pos, 10), data) != nil {
				return
			}
			continue
		}
		atEnd := res.AtEnd
		pos = res.Next
		res.Release()
		if atEnd {
			_ = writeEvent(w, "end", "", []byte(`{}`))
			return
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			w.WriteString(": keep-alive\n\n")
			if w.Flush() != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}
