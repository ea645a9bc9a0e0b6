package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// This file is the efo workload: Consumers registered consumers, each with
// its own HTTP/2 connection (h2c for http://, TLS with ALPN h2 for
// https://), subscribe to every shard with SubscribeToShard from LATEST;
// then a producer puts at a fixed Rate and every pushed record's latency is
// put-to-push, from the timestamp in the record to its arrival in an event.
// Each consumer must receive every acknowledged record exactly once, in
// order per producer worker.

const (
	// maxConsumers is AWS's limit of registered consumers per stream.
	maxConsumers = 20
	// efoGrace is how long subscriptions keep reading after the producer
	// stopped, waiting for acknowledged records to be pushed.
	efoGrace = 5 * time.Second
	// eventStreamType is the content type of a SubscribeToShard answer.
	eventStreamType = "application/vnd.amazon.eventstream"
)

// efoConsumer is one registered consumer and its subscriptions.
type efoConsumer struct {
	name string
	arn  string
	hc   *http.Client // its own connection
	rec  *recorder    // its own latencies
	read atomic.Int64 // records pushed to it, every shard together
	subs []*subscriber
}

// subscriber reads one consumer's subscription to one shard, resubscribing
// after its continuation when the server ends it (a subscription lasts 5
// minutes) until its context is done.
type subscriber struct {
	o       *Options
	c       *client
	codec   *codec
	con     *efoConsumer
	all     *recorder // every consumer's latencies
	addr    string
	tls     bool
	shardID string
	tally   *tally
	err     error // why it gave up, if it did
}

// runEFO is the efo workload, filling res. Setup errors (registering a
// consumer, the first subscription) are returned; the run then has not
// started.
func runEFO(ctx context.Context, o *Options, c *client, cd *codec, res *Result, p *producer, addr string, useTLS bool, stream string, shards []string) error {
	var sum struct {
		StreamDescriptionSummary struct{ StreamARN string }
	}
	if err := c.call("DescribeStreamSummary", map[string]any{"StreamName": stream}, &sum); err != nil {
		return err
	}
	streamARN := sum.StreamDescriptionSummary.StreamARN
	all := newRecorder()
	cons := make([]*efoConsumer, o.Consumers)
	defer func() {
		for _, con := range cons {
			if con != nil && con.arn != "" {
				_ = c.call("DeregisterStreamConsumer", map[string]any{"ConsumerARN": con.arn}, nil)
				con.hc.CloseIdleConnections()
			}
		}
	}()
	for i := range cons {
		con, err := registerConsumer(c, streamARN, fmt.Sprintf("bench-%d", i), useTLS)
		if err != nil {
			return err
		}
		cons[i] = con
		for _, id := range shards {
			con.subs = append(con.subs, &subscriber{o: o, c: c, codec: cd, con: con, all: all,
				addr: addr, tls: useTLS, shardID: id, tally: newTally(o.Conns)})
		}
	}

	// Every subscription must be open (LATEST fixed by the server) before
	// the first put, or its records would be missed.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type opened struct {
		s    *subscriber
		body io.ReadCloser
		err  error
	}
	open := make(chan opened)
	var nsubs int
	for _, con := range cons {
		for _, s := range con.subs {
			nsubs++
			go func() {
				body, err := s.subscribe(rctx, "LATEST", "")
				open <- opened{s, body, err}
			}()
		}
	}
	bodies := make(map[*subscriber]io.ReadCloser, nsubs)
	var openErr error
	for range nsubs {
		r := <-open
		if r.err != nil && openErr == nil {
			openErr = fmt.Errorf("SubscribeToShard %s for %s: %w", r.s.shardID, r.s.con.name, r.err)
		}
		if r.body != nil {
			bodies[r.s] = r.body
		}
	}
	if openErr != nil {
		for _, b := range bodies {
			b.Close()
		}
		return openErr
	}

	res.LatencyKind = "put-to-push"
	var producerDone atomic.Bool
	var doneAt atomic.Int64
	measure(ctx, o, res, all, func(ctx context.Context) {
		var wg sync.WaitGroup
		for s, body := range bodies {
			wg.Go(func() { s.run(rctx, body) })
		}
		wg.Go(func() {
			// Stop the subscriptions once every consumer has every
			// acknowledged record, or the grace after the producer ran out.
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-rctx.Done():
					return
				case <-tick.C:
				}
				if !producerDone.Load() {
					continue
				}
				acked, caughtUp := p.ackedCount(), true
				for _, con := range cons {
					caughtUp = caughtUp && con.read.Load() >= acked
				}
				if caughtUp || time.Now().UnixNano()-doneAt.Load() > int64(efoGrace) {
					cancel()
					return
				}
			}
		})
		runProducer(ctx, p, o.Duration)
		doneAt.Store(time.Now().UnixNano())
		producerDone.Store(true)
		wg.Wait()
	})
	// The records and bytes measured are the pushes to every consumer.
	check := Check{}
	for _, con := range cons {
		tallies := make([]*tally, len(con.subs))
		for i, s := range con.subs {
			tallies[i] = s.tally
			if s.err != nil && res.Err == "" {
				res.Err = s.err.Error()
			}
		}
		cc := reconcile(p.acked, tallies)
		check.Acked = cc.Acked
		check.Read += cc.Read
		check.Missing += cc.Missing
		check.Duplicate += cc.Duplicate
		check.Corrupt += cc.Corrupt
		check.OutOfOrder += cc.OutOfOrder
		check.Unacked = max(check.Unacked, cc.Unacked)
		if check.FirstError == "" {
			check.FirstError = cc.FirstError
		}
		con.rec.mu.Lock()
		res.PerConsumer = append(res.PerConsumer, summarize(con.rec.total))
		con.rec.mu.Unlock()
	}
	res.Check = &check
	res.Consumers = o.Consumers
	res.Retries += p.rec.retries.Load()
	res.Failed += p.rec.failed.Load()
	mergeErrors(res, p.rec)
	mergeErrors(res, all)
	p.rec.mu.Lock()
	put := summarize(p.rec.total)
	p.rec.mu.Unlock()
	res.PutLatency = &put
	return nil
}

// registerConsumer registers name on the stream and waits until it is
// ACTIVE.
func registerConsumer(c *client, streamARN, name string, useTLS bool) (*efoConsumer, error) {
	var reg struct {
		Consumer struct{ ConsumerARN, ConsumerStatus string }
	}
	if err := c.call("RegisterStreamConsumer", map[string]any{"StreamARN": streamARN, "ConsumerName": name}, &reg); err != nil {
		return nil, err
	}
	con := &efoConsumer{name: name, arn: reg.Consumer.ConsumerARN, hc: h2Client(useTLS), rec: newRecorder()}
	for i := 0; reg.Consumer.ConsumerStatus != "ACTIVE"; i++ {
		if i == 300 {
			return con, fmt.Errorf("consumer %s still %s after 30s", name, reg.Consumer.ConsumerStatus)
		}
		time.Sleep(100 * time.Millisecond)
		var d struct {
			ConsumerDescription struct{ ConsumerStatus string }
		}
		if err := c.call("DescribeStreamConsumer", map[string]any{"ConsumerARN": con.arn}, &d); err != nil {
			return con, err
		}
		reg.Consumer.ConsumerStatus = d.ConsumerDescription.ConsumerStatus
	}
	return con, nil
}

// h2Client returns an HTTP/2-only client with a connection of its own:
// prior knowledge (h2c) for http, ALPN h2 for https.
func h2Client(useTLS bool) *http.Client {
	p := new(http.Protocols)
	if useTLS {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Transport: &http.Transport{
		Protocols:           p,
		TLSClientConfig:     &tls.Config{},
		DialContext:         (&net.Dialer{Timeout: requestTimeout}).DialContext,
		TLSHandshakeTimeout: requestTimeout,
		IdleConnTimeout:     time.Minute,
	}}
}

// subscribe sends SubscribeToShard from position typ (LATEST, or
// AFTER_SEQUENCE_NUMBER of seq) and returns the event stream's body once
// the answer's headers are in, the server having fixed the position.
func (s *subscriber) subscribe(ctx context.Context, typ, seq string) (io.ReadCloser, error) {
	pos := map[string]string{"Type": typ}
	if seq != "" {
		pos["SequenceNumber"] = seq
	}
	body, err := json.Marshal(map[string]any{"ConsumerARN": s.con.arn, "ShardId": s.shardID, "StartingPosition": pos})
	if err != nil {
		return nil, err
	}
	scheme := map[bool]string{false: "http", true: "https"}[s.tls]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+s.addr+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", targetPrefix+"SubscribeToShard")
	if err := s.c.sign.sign(req, body); err != nil {
		return nil, err
	}
	resp, err := s.con.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return nil, apiError(resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != eventStreamType {
		resp.Body.Close()
		return nil, fmt.Errorf("SubscribeToShard answered %s, want %s", ct, eventStreamType)
	}
	return resp.Body, nil
}

// run reads body's events until ctx is done, resubscribing after the last
// continuation whenever the server ends the subscription.
func (s *subscriber) run(ctx context.Context, body io.ReadCloser) {
	var cont string
	errorsInRow := 0
	for {
		next, err := s.read(ctx, body)
		body.Close()
		if next != "" {
			cont = next
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.con.rec.error(errorType(err), 1)
			if errorsInRow++; errorsInRow >= maxReaderErrors {
				s.err = fmt.Errorf("shard %s, %s: %w", s.shardID, s.con.name, err)
				return
			}
			sleepCtx(ctx, 100*time.Millisecond) // the takeover rule wants a gap
		} else {
			errorsInRow = 0
		}
		typ := "AFTER_SEQUENCE_NUMBER"
		if cont == "" {
			typ = "LATEST"
		}
		if body, err = s.subscribe(ctx, typ, cont); err != nil {
			if ctx.Err() != nil {
				return
			}
			body = io.NopCloser(bytes.NewReader(nil)) // count it and retry
			s.con.rec.error(errorType(err), 1)
		}
	}
}

// read decodes body's messages until it ends, accounting for every record
// pushed. It returns the last ContinuationSequenceNumber seen, and the
// exception event that ended the subscription, if one did.
func (s *subscriber) read(ctx context.Context, body io.Reader) (cont string, err error) {
	dec := eventstream.NewDecoder()
	br := bufio.NewReaderSize(body, 64<<10)
	var lat []int64
	var buf []byte
	size := int64(s.o.RecordBytes)
	for {
		msg, err := dec.Decode(br, buf[:0])
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return cont, nil
			}
			return cont, err
		}
		buf = msg.Payload
		header := func(name string) string {
			if v := msg.Headers.Get(name); v != nil {
				return v.String()
			}
			return ""
		}
		switch header(":message-type") {
		case "exception":
			return cont, &APIError{Type: header(":exception-type"), Message: string(jsonField(msg.Payload, "message"))}
		case "event":
		default:
			return cont, fmt.Errorf("event stream message of type %q", header(":message-type"))
		}
		if header(":event-type") != "SubscribeToShardEvent" {
			continue // initial-response
		}
		now := time.Now().UnixNano()
		n := int64(0)
		lat = lat[:0]
		eachData(msg.Payload, func(text []byte) {
			d, err := s.codec.check(text)
			s.tally.add(d, err)
			n++
			if err == nil {
				lat = append(lat, (now-d.ts)/1000)
			}
		})
		if len(lat) > 0 {
			s.all.latencies(lat)
			s.con.rec.latencies(lat)
		}
		s.all.records.Add(n)
		s.all.bytes.Add(n * size)
		s.con.read.Add(n)
		if v := jsonField(msg.Payload, "ContinuationSequenceNumber"); v != nil {
			cont = string(v)
		}
	}
}
