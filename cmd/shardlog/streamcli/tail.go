package streamcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spf13/cobra"
)

// GetRecords pacing for one shard: a shard with nothing new is polled
// ever less often, up to once a second; after a page that brought records
// but reached the end, the next poll waits caughtUpDelay (AWS allows five
// GetRecords calls per second per shard, shared by every reader); a page
// that did not reach the end is followed at once.
const (
	emptyPollMin  = 250 * time.Millisecond
	emptyPollMax  = time.Second
	caughtUpDelay = 200 * time.Millisecond
)

// Retries of throttled or failed calls while tailing.
const (
	tailRetryMin = 200 * time.Millisecond
	tailRetryMax = 5 * time.Second
)

// rediscoverEvery is how often tail lists the shards to find new ones; it
// also lists them whenever a shard it reads closes.
const rediscoverEvery = 10 * time.Second

// maxPageRecords is GetRecords' largest page; a full page is followed at
// once.
const maxPageRecords = 10000

func newTailCommand() *cobra.Command {
	var (
		conn       connFlags
		fromFlag   string
		format     string
		exitIdle   time.Duration
		rediscover time.Duration
	)
	cmd := &cobra.Command{
		Use:   "tail NAME",
		Short: "Follow every shard of a stream and print its records, one per line",
		Long: `Follow every shard of stream NAME and print each record on one line:
by default its data as it is, followed by a newline (--format text), or a
JSON object per line (--format json):

  {"shardId":"shardId-000000000001","sequenceNumber":"4961...","partitionKey":"k",
   "arrivalTime":"2025-01-02T03:04:05.678Z","dataEncoding":"text","data":"hello"}

"data" is the record's data as a string when it is valid UTF-8
("dataEncoding":"text"), and base64 otherwise ("dataEncoding":"base64").
"arrivalTime" is the approximate arrival time, in RFC 3339 (UTC).

--from chooses where reading starts:
  latest           only records that arrive from now on (the default)
  trim-horizon     every record the stream still holds
  at-timestamp=T   records that arrived at or after T (RFC 3339, or seconds
                   since the epoch)
  after=SEQ        records after the one with sequence number SEQ in its
                   shard, and records of the other shards that arrived at or
                   after it

tail follows resharding: when a shard closes it lists the shards again and
reads the children, and it starts a child only once its parents are read
to their end, so records with the same partition key print in the order
they were stored. Records of different shards interleave.

Ctrl-C stops tail (exit status 0) after writing what it has read;
--exit-when-idle stops it once every shard is read to its end and no record
has arrived for that long.`,
		Example: `  shardlog tail orders
  shardlog tail --from trim-horizon --exit-when-idle 5s orders > orders.txt
  shardlog tail --from at-timestamp=2025-01-02T15:00:00Z --format json orders | jq .partitionKey`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := parseFrom(fromFlag)
			if err != nil {
				return err
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			if exitIdle < 0 || rediscover <= 0 {
				return errors.New("--exit-when-idle and --rediscover-interval must be positive")
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			f := &follower{
				client:     client,
				stream:     args[0],
				from:       start,
				out:        newRecordWriter(cmd.OutOrStdout(), format == "json"),
				warn:       cmd.ErrOrStderr(),
				idle:       exitIdle,
				rediscover: rediscover,
			}
			return f.run(ctx)
		},
	}
	fs := cmd.Flags()
	conn.register(fs)
	fs.StringVar(&fromFlag, "from", "latest", "where to start: latest, trim-horizon, at-timestamp=TIME or after=SEQUENCE_NUMBER")
	fs.StringVar(&format, "format", "text", "output format: text (the data) or json (one object per record)")
	fs.DurationVar(&exitIdle, "exit-when-idle", 0, "exit once every shard is caught up and no record has arrived for this long (0: follow until interrupted)")
	fs.DurationVar(&rediscover, "rediscover-interval", rediscoverEvery, "how often to list the shards to find new ones, besides when a shard closes")
	return cmd
}

// follower reads every shard of a stream, each in its own goroutine, and
// starts the readers of new shards as their parents finish. Its run method
// owns the shard table; readers report to it over a channel.
type follower struct {
	client     *kinesis.Client
	stream     string
	from       from
	out        *recordWriter
	warn       io.Writer
	idle       time.Duration // 0: never exit for idleness
	rediscover time.Duration
	// behind counts the readers whose last page did not reach their
	// shard's end (or that have had no page yet): while one is behind, a
	// slow GetRecords is not idleness.
	behind atomic.Int32

	shards map[string]*tracked
	// later is where shards that appear after the start begin.
	later position
}

// tracked is one shard as the follower sees it.
type tracked struct {
	shard types.Shard
	state shardState
	pos   position // where its reader starts
}

type shardState int

const (
	// waiting: not started yet, until its parents are drained.
	waiting shardState = iota
	reading
	// drained: read to its end, or not to be read (a closed shard under
	// --from latest, or an ancestor of --from after's shard).
	drained
)

// readerDone is a reader's report: its shard is drained, or err stopped it.
type readerDone struct {
	id  string
	err error
}

// run follows the stream until ctx ends (it then returns nil), the idle
// time passes (nil too) or an error that retrying does not cure.
func (f *follower) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop := func(err error) error {
		cancel()
		wg.Wait()
		return err
	}
	shards, err := listShards(ctx, f.client, f.stream)
	if err != nil {
		return stop(ignoreCancel(ctx, err))
	}
	if err := f.plan(ctx, shards); err != nil {
		return stop(ignoreCancel(ctx, err))
	}
	done := make(chan readerDone)
	f.startReady(ctx, &wg, done)

	rediscover := time.NewTicker(f.rediscover)
	defer rediscover.Stop()
	var idleCheck <-chan time.Time
	if f.idle > 0 {
		t := time.NewTicker(max(min(f.idle/4, 250*time.Millisecond), time.Millisecond))
		defer t.Stop()
		idleCheck = t.C
	}
	for {
		select {
		case d := <-done:
			if d.err != nil {
				return stop(d.err)
			}
			f.shards[d.id].state = drained
			if err := f.discover(ctx); err != nil {
				return stop(ignoreCancel(ctx, err))
			}
			f.startReady(ctx, &wg, done)
		case <-rediscover.C:
			if err := f.discover(ctx); err != nil {
				return stop(ignoreCancel(ctx, err))
			}
			f.startReady(ctx, &wg, done)
		case <-idleCheck:
			if f.behind.Load() == 0 && f.out.idleFor() >= f.idle {
				return stop(nil)
			}
		case <-ctx.Done():
			return stop(nil)
		}
	}
}

// ignoreCancel is err, or nil when err only says that ctx ended.
func ignoreCancel(ctx context.Context, err error) error {
	if cancelled(ctx, err) {
		return nil
	}
	return err
}

// plan fills the shard table from the first listing, as --from says.
func (f *follower) plan(ctx context.Context, shards []types.Shard) error {
	f.shards = make(map[string]*tracked, len(shards))
	start := position{kind: f.from.kind, at: f.from.at}
	f.later = position{kind: types.ShardIteratorTypeTrimHorizon}
	if f.from.kind == types.ShardIteratorTypeAtTimestamp {
		f.later = start
	}
	for _, sh := range shards {
		t := &tracked{shard: sh, pos: start}
		if f.from.kind == types.ShardIteratorTypeLatest && closed(sh) {
			// Nothing arrives in a closed shard any more.
			t.state = drained
		}
		f.shards[aws.ToString(sh.ShardId)] = t
	}
	if f.from.kind == types.ShardIteratorTypeAfterSequenceNumber {
		return f.planAfter(ctx, shards)
	}
	return nil
}

// planAfter plans --from after=SEQ: the shard that holds SEQ resumes after
// it and its ancestors are skipped; every other shard starts at SEQ's
// arrival time (or at its trim horizon if SEQ's record has expired).
func (f *follower) planAfter(ctx context.Context, shards []types.Shard) error {
	home := ""
	for _, sh := range shards {
		// A sequence number names its shard: every other shard refuses it.
		id := aws.ToString(sh.ShardId)
		_, err := f.client.GetShardIterator(ctx, position{kind: types.ShardIteratorTypeAfterSequenceNumber, seq: f.from.seq}.iteratorInput(f.stream, id))
		var invalid *types.InvalidArgumentException
		if errors.As(err, &invalid) {
			continue
		}
		if err != nil {
			return fmt.Errorf("shard iterator for %s: %w", id, err)
		}
		home = id
		break
	}
	if home == "" {
		return fmt.Errorf("no shard of stream %s holds sequence number %s", f.stream, f.from.seq)
	}
	others := position{kind: types.ShardIteratorTypeTrimHorizon}
	at, found, err := f.arrivalTime(ctx, home, f.from.seq)
	if err != nil {
		return err
	}
	if found {
		others = position{kind: types.ShardIteratorTypeAtTimestamp, at: at}
	}
	f.later = others
	for _, t := range f.shards {
		t.pos = others
	}
	f.shards[home].pos = position{kind: types.ShardIteratorTypeAfterSequenceNumber, seq: f.from.seq}
	f.skipAncestors(home)
	return nil
}

// arrivalTime returns the arrival time of the record seq of shard id;
// found is false when the shard no longer holds it.
func (f *follower) arrivalTime(ctx context.Context, id, seq string) (at time.Time, found bool, err error) {
	it, err := f.client.GetShardIterator(ctx, position{kind: types.ShardIteratorTypeAtSequenceNumber, seq: seq}.iteratorInput(f.stream, id))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("shard iterator for %s: %w", id, err)
	}
	out, err := f.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read shard %s: %w", id, err)
	}
	if len(out.Records) == 0 || aws.ToString(out.Records[0].SequenceNumber) != seq || out.Records[0].ApproximateArrivalTimestamp == nil {
		return time.Time{}, false, nil
	}
	return *out.Records[0].ApproximateArrivalTimestamp, true, nil
}

// skipAncestors marks the parents of id, and theirs, drained.
func (f *follower) skipAncestors(id string) {
	t := f.shards[id]
	if t == nil {
		return
	}
	for _, p := range parents(t.shard) {
		if pt := f.shards[p]; pt != nil && pt.state != drained {
			pt.state = drained
			f.skipAncestors(p)
		}
	}
}

// discover lists the shards and adds the new ones to the table. A listing
// that fails for a reason worth retrying is skipped with a warning.
func (f *follower) discover(ctx context.Context) error {
	shards, err := listShards(ctx, f.client, f.stream)
	if err != nil {
		if retryable(err) {
			fmt.Fprintf(f.warn, "tail: %v; trying again later\n", err)
			return nil
		}
		return err
	}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if t, ok := f.shards[id]; ok {
			t.shard = sh
			continue
		}
		f.shards[id] = &tracked{shard: sh, pos: f.later}
	}
	return nil
}

// startReady starts a reader for each waiting shard whose parents are
// drained (or no longer listed: expired).
func (f *follower) startReady(ctx context.Context, wg *sync.WaitGroup, done chan<- readerDone) {
	for id, t := range f.shards {
		if t.state != waiting {
			continue
		}
		ready := true
		for _, p := range parents(t.shard) {
			if pt, ok := f.shards[p]; ok && pt.state != drained {
				ready = false
			}
		}
		if !ready {
			continue
		}
		t.state = reading
		wg.Add(1)
		go func(id string, pos position) {
			defer wg.Done()
			err := f.read(ctx, id, pos)
			select {
			case done <- readerDone{id: id, err: err}:
			case <-ctx.Done():
			}
		}(id, t.pos)
	}
}

// parents returns the ids of sh's parent shards.
func parents(sh types.Shard) []string {
	var ids []string
	for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
		if p != nil && *p != "" {
			ids = append(ids, *p)
		}
	}
	return ids
}

// closed reports whether sh is closed (split or merged away).
func closed(sh types.Shard) bool {
	return sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
}

// read reads shard id from pos to its end, writing its records. It returns
// nil when the shard is drained (closed and read to the end) or ctx ended.
func (f *follower) read(ctx context.Context, id string, pos position) error {
	retry := backoff{min: tailRetryMin, max: tailRetryMax}
	idle := backoff{min: emptyPollMin, max: emptyPollMax}
	iter, err := f.iterator(ctx, id, pos)
	if err != nil {
		return ignoreCancel(ctx, err)
	}
	last := "" // sequence number of the last record written
	warned := false
	f.behind.Add(1)
	caughtUp := false
	defer func() {
		if !caughtUp {
			f.behind.Add(-1)
		}
	}()
	for {
		out, err := f.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			if cancelled(ctx, err) {
				return nil
			}
			var expired *types.ExpiredIteratorException
			switch {
			case errors.As(err, &expired):
				resume := pos
				if last != "" {
					resume = position{kind: types.ShardIteratorTypeAfterSequenceNumber, seq: last}
				}
				if iter, err = f.iterator(ctx, id, resume); err != nil {
					return ignoreCancel(ctx, err)
				}
			case retryable(err):
				if !warned {
					fmt.Fprintf(f.warn, "tail: shard %s: %v; retrying\n", id, err)
					warned = true
				}
				if retry.wait(ctx) != nil {
					return nil
				}
			default:
				return fmt.Errorf("read shard %s: %w", id, err)
			}
			continue
		}
		retry.reset()
		warned = false
		if n := len(out.Records); n > 0 {
			if err := f.out.write(id, out.Records); err != nil {
				return err
			}
			last = aws.ToString(out.Records[n-1].SequenceNumber)
		}
		if out.NextShardIterator == nil {
			return nil // closed, and every record read
		}
		iter = out.NextShardIterator
		var wait time.Duration
		full := len(out.Records) >= maxPageRecords || aws.ToInt64(out.MillisBehindLatest) > 0
		switch {
		case full && caughtUp:
			caughtUp = false
			f.behind.Add(1)
		case !full && !caughtUp:
			caughtUp = true
			f.behind.Add(-1)
		}
		switch {
		case full:
			idle.reset()
		case len(out.Records) > 0:
			idle.reset()
			wait = caughtUpDelay
		default:
			if idle.wait(ctx) != nil {
				return nil
			}
		}
		if sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// iterator gets a shard iterator for pos on shard id, retrying throttling
// and transient failures.
func (f *follower) iterator(ctx context.Context, id string, pos position) (*string, error) {
	b := backoff{min: tailRetryMin, max: tailRetryMax}
	for {
		out, err := f.client.GetShardIterator(ctx, pos.iteratorInput(f.stream, id))
		if err == nil {
			return out.ShardIterator, nil
		}
		if !retryable(err) || cancelled(ctx, err) {
			return nil, fmt.Errorf("shard iterator for %s: %w", id, err)
		}
		if err := b.wait(ctx); err != nil {
			return nil, err
		}
	}
}
