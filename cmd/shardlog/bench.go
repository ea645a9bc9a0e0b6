package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardlog/shardlog/bench"
)

func benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench [WORKLOAD] [flags]",
		Short: "Measure a Kinesis endpoint with the load generator",
		Long: `bench runs a workload of the load generator against a Kinesis endpoint over
HTTP and prints throughput and latency: put (PutRecords), putone (PutRecord),
get (GetRecords drain), e2e (put-to-visible latency while polling) or efo
(put-to-push latency over SubscribeToShard). --suite runs the standard set,
--serve measures a shardlog this binary starts, --peers compares shardlog
with kinesalite and kinesis-local installed from npm.

It signs requests with AWS Signature Version 4 when AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY are set, so it can measure AWS too; otherwise, or with
--unsigned, it sends a well-formed header with a dummy signature. It exits 0
when every run moved records and accounted for them, 1 otherwise.`,
		Example: `  shardlog bench --serve --suite --duration 10s
  shardlog bench put --endpoint http://127.0.0.1:4567 --record-size 1024
  shardlog bench efo --consumers 1,5 --rate 1000 --serve
  shardlog bench --peers --results bench/RESULTS.md`,
		Args: cobra.MaximumNArgs(1),
	}
	d := bench.DefaultOptions()
	fs := cmd.Flags()
	var o bench.Options
	workload := fs.String("workload", string(d.Workload), "put | putone | get | e2e | efo (or name it first)")
	fs.StringVar(&o.Endpoint, "endpoint", d.Endpoint, "Kinesis endpoint URL")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow an endpoint that is not loopback")
	fs.StringVar(&o.Stream, "stream", "", "stream name (default: a fresh stream, deleted after)")
	fs.BoolVar(&o.KeepStream, "keep-stream", false, "do not delete the stream the run created")
	fs.IntVar(&o.Shards, "shards", 0, "shards of a created stream (default 4; efo 1)")
	fs.IntVar(&o.Conns, "conns", 0, "producer connections (default 4; putone 16; e2e 1)")
	fs.BoolVar(&o.HTTP2, "http2", false, "send over HTTP/2 (h2c, or h2 for https), one connection per producer and reader")
	fs.DurationVar(&o.Duration, "duration", d.Duration, "bound of the measured phase (get: of the put phase)")
	fs.Int64Var(&o.Records, "records", 0, "stop producing after this many records (0: no limit)")
	fs.IntVar(&o.RecordBytes, "record-size", d.RecordBytes, "record data bytes (at least 24)")
	fs.IntVar(&o.Batch, "batch", 0, "records per PutRecords (default 500; e2e 1)")
	fs.IntVar(&o.Keys, "keys", d.Keys, "distinct partition keys")
	fs.IntVar(&o.Rate, "rate", 0, "producer records/s (0: unlimited; e2e and efo default 1000)")
	consumers := fs.String("consumers", "1,5", "efo: registered consumers; a comma-separated list runs once per count")
	fs.DurationVar(&o.PollSleep, "poll-sleep", 0, "reader pause after an empty GetRecords")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "measure this server process's CPU from /proc")
	fs.StringVar(&o.Label, "label", "", "target name in reports (default: shardlog with --serve, else target)")
	suite := fs.Bool("suite", false, "run the standard workloads instead of one")
	serveSelf := fs.Bool("serve", false, "start this binary's server on a free port and a temporary data dir, and measure it")
	peers := fs.Bool("peers", false, "run the standard workloads against shardlog, kinesalite and kinesis-local")
	nodeDir := fs.String("node-dir", "", "npm prefix holding kinesalite and kinesis-local (--peers; default: install into a temp dir)")
	results := fs.String("results", "", "write the --peers Markdown report to this file")
	jsonOut := fs.Bool("json", false, "print results as JSON instead of the table")
	report := fs.String("report", "", "write a self-contained HTML report to this file")
	quiet := fs.Bool("quiet", false, "no live progress line")
	unsigned := fs.Bool("unsigned", false, "send a dummy SigV4 header even when AWS_ACCESS_KEY_ID is set")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			*workload = args[0] // shardlog bench efo [flags]
		}
		code := runBench(benchRun{
			o: o, workload: *workload, consumers: *consumers, suite: *suite, serveSelf: *serveSelf,
			peers: *peers, nodeDir: *nodeDir, results: *results, jsonOut: *jsonOut, report: *report,
			quiet: *quiet, unsigned: *unsigned, command: "shardlog " + strings.Join(os.Args[1:], " "),
		}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		if code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
	return cmd
}

// benchRun is what the bench command's flags ask for.
type benchRun struct {
	o                        bench.Options
	workload, consumers      string
	suite, serveSelf, peers  bool
	nodeDir, results, report string
	jsonOut, quiet, unsigned bool
	command                  string // the command line, for the --peers report
}

// runBench runs one workload, the standard suite, or the suite against the
// peers, as r asks. It returns 0 when every run moved records and
// accounted for them, 1 otherwise, 2 on a usage error.
func runBench(r benchRun, stdout, stderr io.Writer) int {
	o := r.o
	o.Workload = bench.Workload(r.workload)
	if !r.unsigned {
		o.Credentials = envCredentials(os.Getenv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = stderr
	if r.quiet {
		progress = nil
	}
	inPlace := false
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			inPlace = true
		}
	}
	o.Progress, o.ProgressInPlace = progress, inPlace

	var rs []*bench.Result
	switch {
	case r.peers:
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
			return 1
		}
		if progress == nil {
			progress = io.Discard
		}
		rs, err = bench.Peers(ctx, bench.PeersOptions{
			ShardlogBin: self, NodeDir: r.nodeDir, Duration: o.Duration, Results: r.results,
			Command: r.command, Version: version, Progress: progress, InPlace: inPlace,
		})
		if err != nil {
			fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
			return 1
		}
	default:
		if r.serveSelf {
			self, err := os.Executable()
			if err != nil {
				fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
				return 1
			}
			srv, err := bench.StartShardlog(ctx, self)
			if err != nil {
				fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
				return 1
			}
			defer srv.Stop()
			o.Endpoint, o.ServerPID = srv.Endpoint, srv.PID
			if o.Label == "" {
				o.Label = "shardlog"
			}
		}
		if r.suite {
			std := bench.Standard(o.Duration)
			for i := range std {
				std[i].Credentials = o.Credentials
			}
			rs = bench.RunSuite(ctx, o.Label, o.Endpoint, o.ServerPID, std, progress, inPlace)
		} else {
			counts := []int{0}
			if o.Workload == bench.EFO {
				var err error
				if counts, err = parseCounts(r.consumers); err != nil {
					fmt.Fprintf(stderr, "shardlog bench: --consumers: %v\n", err)
					return 2
				}
			}
			for _, n := range counts {
				o.Consumers = n
				r, err := bench.Run(ctx, o)
				if err != nil {
					fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
					return 1
				}
				rs = append(rs, r)
			}
		}
	}
	if r.jsonOut {
		if err := bench.WriteJSON(stdout, rs); err != nil {
			fmt.Fprintf(stderr, "shardlog bench: %v\n", err)
			return 1
		}
	} else {
		bench.WriteTable(stdout, rs)
	}
	if r.report != "" {
		f, err := os.Create(r.report)
		if err == nil {
			err = errors.Join(bench.WriteHTML(f, "shardlog bench "+time.Now().UTC().Format(time.RFC3339), rs), f.Close())
		}
		if err != nil {
			fmt.Fprintf(stderr, "shardlog bench: report: %v\n", err)
			return 1
		}
	}
	for _, r := range rs {
		if !r.OK() {
			return 1
		}
	}
	return 0
}

// parseCounts parses a comma-separated list of positive integers.
func parseCounts(list string) ([]int, error) {
	var counts []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// envCredentials returns the AWS credentials of the environment, as the
// SDKs and the CLI read them, or nil when there are none: bench then sends
// a dummy SigV4 header, which shardlog (auth mode none) and kinesalite
// accept and AWS refuses.
func envCredentials(getenv func(string) string) *bench.Credentials {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	return &bench.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"), Region: region}
}
