package streamcli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// PutRecords limits (AWS's): records and bytes (data and partition keys)
// per call.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
)

// maxLineBytes is the longest line put accepts: Kinesis's largest record
// (10 MiB, for streams that raised their maximum record size).
const maxLineBytes = 10 << 20

// maxPartitionKeyChars is Kinesis's longest partition key, in characters.
const maxPartitionKeyChars = 256

// linger is how long put waits for more input before it sends a partial
// batch, so that lines typed or piped slowly go out promptly.
const linger = 100 * time.Millisecond

// put's retry of records the service refused: the delays, and how many
// attempts in a row may make no progress before put gives up.
const (
	putRetryMin      = 100 * time.Millisecond
	putRetryMax      = 5 * time.Second
	putStalledRounds = 12
)

// progressInterval is how often put reports progress on long inputs.
const progressInterval = 2 * time.Second

func newPutCommand() *cobra.Command {
	var (
		conn     connFlags
		file     string
		key      string
		keyField string
		progress bool
		ordered  bool
	)
	cmd := &cobra.Command{
		Use:   "put NAME",
		Short: "Send lines of standard input (or a file) as records",
		Long: `Send each line of standard input, or of --file, as one record to stream
NAME, without its line ending, batched with PutRecords (up to 500 records
and 5 MiB per call).

The partition key is --partition-key for every record, or the value of the
top-level JSON field --key-field of each line, or by default the line
number, which spreads records evenly over the shards.

Records the service refuses (throttling, internal failures) are retried
with backoff, in input order, before the next batch is sent. Records with
the same partition key therefore land in input order, with one exception
the summary reports: when a batch holds several records with one key and
the service refuses an earlier one but accepts a later one, the retried
record lands after it. --ordered rules this out by sending at most one
record per partition key in each call, which is slower when keys repeat.

Progress is reported on standard error every few seconds when it is a
terminal (or with --progress), and a summary when done.`,
		Example: `  seq 1000 | shardlog put numbers
  shardlog put --file events.jsonl --key-field user_id events
  tail -f app.log | shardlog put --partition-key web-1 logs`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			if key != "" && utf8.RuneCountInString(key) > maxPartitionKeyChars {
				return fmt.Errorf("--partition-key is longer than %d characters", maxPartitionKeyChars)
			}
			in := cmd.InOrStdin()
			if file != "" && file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			p := &putter{
				client:  client,
				stream:  args[0],
				key:     partitionKeyFunc(key, keyField),
				stderr:  cmd.ErrOrStderr(),
				ordered: ordered,
			}
			if progress || isTerminal(cmd.ErrOrStderr()) {
				p.progressEvery = progressInterval
			}
			return p.run(ctx, in)
		},
	}
	f := cmd.Flags()
	conn.register(f)
	f.StringVar(&file, "file", "", "read records from this file instead of standard input")
	f.StringVar(&key, "partition-key", "", "partition key of every record")
	f.StringVar(&keyField, "key-field", "", "take each record's partition key from this top-level field of the line, a JSON object")
	f.BoolVar(&progress, "progress", false, "report progress on standard error even when it is not a terminal")
	f.BoolVar(&ordered, "ordered", false, "keep records with the same partition key in input order even when the service refuses some (at most one record per key in each call)")
	cmd.MarkFlagsMutuallyExclusive("partition-key", "key-field")
	return cmd
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// partitionKeyFunc returns how a line's partition key is chosen.
func partitionKeyFunc(fixed, field string) func(line []byte, lineNo int64) (string, error) {
	switch {
	case fixed != "":
		return func([]byte, int64) (string, error) { return fixed, nil }
	case field != "":
		return func(line []byte, _ int64) (string, error) { return jsonField(line, field) }
	default:
		return func(_ []byte, lineNo int64) (string, error) { return strconv.FormatInt(lineNo, 10), nil }
	}
}

// jsonField returns field of the JSON object line as a partition key: a
// string's value, or any other value's JSON text.
func jsonField(line []byte, field string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return "", fmt.Errorf("not a JSON object: %w", err)
	}
	raw, ok := obj[field]
	if !ok || string(raw) == "null" {
		return "", fmt.Errorf("no field %q", field)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", fmt.Errorf("field %q is empty", field)
	case n > maxPartitionKeyChars:
		return "", fmt.Errorf("field %q is longer than %d characters", field, maxPartitionKeyChars)
	}
	return s, nil
}

// putter sends lines as records. It is used by one goroutine.
type putter struct {
	client        *kinesis.Client
	stream        string
	key           func(line []byte, lineNo int64) (string, error)
	stderr        io.Writer
	progressEvery time.Duration // 0: no progress lines
	// ordered puts at most one record per partition key in a call, so
	// that a refused record is never overtaken by a later one of its key.
	ordered bool

	started      time.Time
	lastProgress time.Time
	records      int64 // acknowledged
	bytes        int64 // of acknowledged data
	calls        int64
	retried      int64 // records sent again after the service refused them
	reordered    int64 // records stored ahead of an earlier one with the same key
}

// entry is a record to send and the line it came from.
type entry struct {
	line int64
	key  string
	data []byte
}

// line is one line of input, or the error that ended the input.
type line struct {
	data []byte
	err  error
}

// run sends every line of in and prints a summary.
func (p *putter) run(ctx context.Context, in io.Reader) error {
	p.started = time.Now()
	p.lastProgress = p.started
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan line, 4*maxBatchRecords)
	go readLines(ctx, in, lines)
	err := p.batch(ctx, lines)
	if errors.Is(err, context.Canceled) {
		err = errors.New("interrupted")
	}
	p.summary(err)
	if err != nil {
		return fmt.Errorf("put to %s: %w", p.stream, err)
	}
	return nil
}

// readLines sends in's lines (without their "\n") to lines, then closes it;
// a read error is the last thing sent.
func readLines(ctx context.Context, in io.Reader, lines chan<- line) {
	defer close(lines)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	sc.Split(scanLines)
	for sc.Scan() {
		select {
		// Never nil: an empty line is an empty record, and the SDK takes
		// nil data for missing data.
		case lines <- line{data: append([]byte{}, sc.Bytes()...)}:
		case <-ctx.Done():
			return
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d MiB, the largest record", maxLineBytes>>20)
		}
		select {
		case lines <- line{err: err}:
		case <-ctx.Done():
		}
	}
}

// scanLines is bufio.ScanLines without its removal of a "\r" before the
// "\n": the data is kept as it is, and tail prints it back unchanged.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, c := range data {
		if c == '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// batch groups lines into PutRecords calls and sends them one at a time.
func (p *putter) batch(ctx context.Context, lines <-chan line) error {
	var (
		batch  []entry
		size   int
		keys   = map[string]bool{} // in batch, when ordered
		lineNo int64
		timer  = time.NewTimer(linger)
	)
	defer timer.Stop()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := p.send(ctx, batch)
		batch, size = batch[:0], 0
		clear(keys)
		return err
	}
	for {
		var l line
		var ok bool
		select {
		case l, ok = <-lines:
		default:
			// Nothing waiting: send what there is after a short wait.
			if len(batch) > 0 {
				timer.Reset(linger)
			}
			select {
			case l, ok = <-lines:
			case <-timer.C:
				if err := flush(); err != nil {
					return err
				}
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			return flush()
		}
		if l.err != nil {
			return errors.Join(l.err, flush())
		}
		lineNo++
		key, err := p.key(l.data, lineNo)
		if err != nil {
			return errors.Join(fmt.Errorf("line %d: %w", lineNo, err), flush())
		}
		n := len(l.data) + len(key)
		if len(batch) == maxBatchRecords || (len(batch) > 0 && size+n > maxBatchBytes) || (p.ordered && keys[key]) {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, entry{line: lineNo, key: key, data: l.data})
		size += n
		if p.ordered {
			keys[key] = true
		}
	}
}

// send puts batch, retrying the records the service refuses, in order,
// until every record is stored. It gives up on a refusal that is not
// worth retrying, or after putStalledRounds attempts in a row that stored
// nothing.
func (p *putter) send(ctx context.Context, batch []entry) error {
	b := backoff{min: putRetryMin, max: putRetryMax}
	stalled := 0
	pending := batch
	for {
		req := make([]types.PutRecordsRequestEntry, len(pending))
		for i, e := range pending {
			req[i] = types.PutRecordsRequestEntry{Data: e.data, PartitionKey: aws.String(e.key)}
		}
		p.calls++
		out, err := p.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(p.stream), Records: req})
		if err != nil {
			if cancelled(ctx, err) {
				return ctx.Err()
			}
			return fmt.Errorf("lines %d-%d: %w", pending[0].line, pending[len(pending)-1].line, err)
		}
		if len(out.Records) != len(pending) {
			return fmt.Errorf("lines %d-%d: %d results for %d records", pending[0].line, pending[len(pending)-1].line, len(out.Records), len(pending))
		}
		var failed []entry
		refusedKeys := map[string]bool{}
		var lastErr string
		for i, r := range out.Records {
			e := pending[i]
			if r.ErrorCode == nil {
				p.records++
				p.bytes += int64(len(e.data))
				if refusedKeys[e.key] {
					p.reordered++
				}
				continue
			}
			code := *r.ErrorCode
			if !retryableRecordError(code) {
				return fmt.Errorf("line %d: %s: %s", e.line, code, aws.ToString(r.ErrorMessage))
			}
			refusedKeys[e.key] = true
			failed = append(failed, e)
			lastErr = code + ": " + aws.ToString(r.ErrorMessage)
		}
		p.reportProgress()
		if len(failed) == 0 {
			return nil
		}
		if len(failed) < len(pending) {
			stalled = 0
			b.reset()
		} else if stalled++; stalled >= putStalledRounds {
			return fmt.Errorf("line %d: refused %d times in a row: %s", failed[0].line, stalled, lastErr)
		}
		p.retried += int64(len(failed))
		pending = failed
		if err := b.wait(ctx); err != nil {
			return err
		}
	}
}

// retryableRecordError reports whether a record PutRecords refused with
// code may succeed if sent again.
func retryableRecordError(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "InternalFailure", "ServiceUnavailable", "KMSThrottlingException":
		return true
	}
	return false
}

// reportProgress prints a progress line when one is due.
func (p *putter) reportProgress() {
	if p.progressEvery == 0 || time.Since(p.lastProgress) < p.progressEvery {
		return
	}
	p.lastProgress = time.Now()
	elapsed := time.Since(p.started)
	fmt.Fprintf(p.stderr, "put: %d records, %s, %.0f records/s, %d retried\n",
		p.records, formatBytes(p.bytes), float64(p.records)/elapsed.Seconds(), p.retried)
}

// summary prints what was sent; err, when not nil, is why put stopped.
func (p *putter) summary(err error) {
	elapsed := time.Since(p.started)
	verb := "put"
	if err != nil {
		verb = "stopped after putting"
	}
	fmt.Fprintf(p.stderr, "%s %d records (%s) to %s in %s: %d PutRecords calls, %d records retried\n",
		verb, p.records, formatBytes(p.bytes), p.stream, elapsed.Round(time.Millisecond), p.calls, p.retried)
	if p.reordered > 0 {
		fmt.Fprintf(p.stderr, "warning: %d records were stored ahead of an earlier record with the same partition key, which the service refused at first and put retried (--ordered prevents this)\n", p.reordered)
	}
}

// formatBytes formats n bytes for people.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
