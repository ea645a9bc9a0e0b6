package streamcli_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog/server/kinesistest"
	"github.com/shardlog/shardlog/shard"
)

// line is one input line of the split test: a JSON object whose field
// "user" is the partition key and "n" the line's place in the input.
type line struct {
	User string `json:"user"`
	N    int    `json:"n"`
}

func makeLines(from, to, users int) string {
	var b strings.Builder
	for n := from; n < to; n++ {
		fmt.Fprintf(&b, `{"user":"user-%d","n":%d}`+"\n", n%users, n)
	}
	return b.String()
}

// TestPutTailAcrossSplit puts 10,000 lines from standard input, half before
// and half after a shard is split, and reads them back with tail from
// TRIM_HORIZON: once while they are put (following the split as it
// happens) and once afterwards. Every line comes back exactly once, in
// input order within each shard and within each partition key.
func TestPutTailAcrossSplit(t *testing.T) {
	const total, users = 10000, 97
	srv := kinesistest.New(t, kinesistest.WithStream("events", 2), kinesistest.WithFsync(shard.FsyncNever))
	client := srv.Client()

	live := make(chan result, 1)
	go func() {
		live <- run(t.Context(), nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon",
			"--format", "json", "--exit-when-idle", "3s", "events")
	}()

	first := mustRun(t, strings.NewReader(makeLines(0, total/2, users)), "put", "--endpoint", srv.Endpoint, "--key-field", "user", "events")
	if !strings.Contains(first.stderr, fmt.Sprintf("put %d records", total/2)) {
		t.Errorf("first put's summary: %q", first.stderr)
	}
	if _, err := client.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName:         aws.String("events"),
		ShardToSplit:       aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String(midpoint(t, client, "events", "shardId-000000000000")),
	}); err != nil {
		t.Fatal(err)
	}
	second := mustRun(t, strings.NewReader(makeLines(total/2, total, users)), "put", "--endpoint", srv.Endpoint, "--key-field", "user", "events")
	if !strings.Contains(second.stderr, fmt.Sprintf("put %d records", total/2)) {
		t.Errorf("second put's summary: %q", second.stderr)
	}

	r := <-live
	if r.err != nil {
		t.Fatalf("live tail: %v\n%s", r.err, r.stderr)
	}
	recs := parseJSONLines(t, r.stdout)
	shards := map[string]bool{}
	lastSeq := map[string]string{} // shard -> sequence number
	lastN := map[string]int{}      // shard -> n
	var got []string
	for _, rec := range recs {
		var l line
		if err := json.Unmarshal([]byte(rec.Data), &l); err != nil || rec.DataEncoding != "text" {
			t.Fatalf("record %+v: data is not the line put: %v", rec, err)
		}
		if rec.PartitionKey != l.User {
			t.Errorf("record n=%d: partition key %q, want %q", l.N, rec.PartitionKey, l.User)
		}
		if prev, ok := lastSeq[rec.ShardID]; ok && !seqLess(prev, rec.SequenceNumber) {
			t.Fatalf("shard %s: sequence number %s after %s", rec.ShardID, rec.SequenceNumber, prev)
		}
		if prev, ok := lastN[rec.ShardID]; ok && l.N <= prev {
			t.Fatalf("shard %s: line %d after line %d", rec.ShardID, l.N, prev)
		}
		lastSeq[rec.ShardID], lastN[rec.ShardID] = rec.SequenceNumber, l.N
		shards[rec.ShardID] = true
		got = append(got, rec.Data)
	}
	// Both halves of the split shard, its sibling and the split parent.
	if len(shards) != 4 {
		t.Errorf("records came from shards %v, want 4 (the parent, its two children, the other shard)", shards)
	}
	checkLines(t, "live tail", got, total, users)

	after := mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "--exit-when-idle", "1s", "events")
	checkLines(t, "tail after the puts", strings.Split(strings.TrimSuffix(after.stdout, "\n"), "\n"), total, users)
}

// checkLines checks that got holds each of the total lines once, and each
// user's lines in input order.
func checkLines(t *testing.T, what string, got []string, total, users int) {
	t.Helper()
	seen := make([]bool, total)
	lastN := map[string]int{}
	for _, data := range got {
		var l line
		if err := json.Unmarshal([]byte(data), &l); err != nil || l.N < 0 || l.N >= total {
			t.Fatalf("%s: unexpected line %q", what, data)
		}
		if seen[l.N] {
			t.Fatalf("%s: line %d twice", what, l.N)
		}
		seen[l.N] = true
		if prev, ok := lastN[l.User]; ok && l.N < prev {
			t.Fatalf("%s: key %s: line %d after line %d", what, l.User, l.N, prev)
		}
		lastN[l.User] = l.N
	}
	if len(got) != total {
		t.Fatalf("%s: %d lines, want %d", what, len(got), total)
	}
	if len(lastN) != users {
		t.Errorf("%s: %d partition keys, want %d", what, len(lastN), users)
	}
}

// TestTailAcrossMerge reads records put before and after two shards merge.
func TestTailAcrossMerge(t *testing.T) {
	const total, users = 2000, 13
	srv := kinesistest.New(t, kinesistest.WithStream("m", 2))
	client := srv.Client()
	mustRun(t, strings.NewReader(makeLines(0, total/2, users)), "put", "--endpoint", srv.Endpoint, "--key-field", "user", "m")
	if _, err := client.MergeShards(t.Context(), &kinesis.MergeShardsInput{
		StreamName: aws.String("m"), ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001"),
	}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, strings.NewReader(makeLines(total/2, total, users)), "put", "--endpoint", srv.Endpoint, "--key-field", "user", "m")
	r := mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "--exit-when-idle", "1s", "m")
	checkLines(t, "tail", strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"), total, users)
}

// TestTailJSON checks every field of --format json, for text and binary
// data.
func TestTailJSON(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStreams("j"))
	client := srv.Client()
	put := func(key string, data []byte) *kinesis.PutRecordOutput {
		out, err := client.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String("j"), PartitionKey: aws.String(key), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := time.Now()
	text := put("k1", []byte(`héllo "<world>" & tabs	`))
	binary := put("k2", []byte{0xff, 0x00, 0xfe, 'a'})
	after := time.Now()

	r := mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "--format", "json", "--exit-when-idle", "500ms", "j")
	recs := parseJSONLines(t, r.stdout)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2:\n%s", len(recs), r.stdout)
	}
	want := []record{
		{ShardID: *text.ShardId, SequenceNumber: *text.SequenceNumber, PartitionKey: "k1", DataEncoding: "text", Data: `héllo "<world>" & tabs	`},
		{ShardID: *binary.ShardId, SequenceNumber: *binary.SequenceNumber, PartitionKey: "k2", DataEncoding: "base64", Data: base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe, 'a'})},
	}
	for i, got := range recs {
		at, err := time.Parse(time.RFC3339Nano, got.ArrivalTime)
		if err != nil {
			t.Errorf("record %d: arrivalTime %q: %v", i, got.ArrivalTime, err)
		} else if at.Before(before.Truncate(time.Millisecond)) || at.After(after) || at.Location() != time.UTC {
			t.Errorf("record %d: arrivalTime %s, want between %s and %s, in UTC", i, got.ArrivalTime, before, after)
		}
		got.ArrivalTime = ""
		if got != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	// HTML characters are not escaped: the line is plain JSON.
	if strings.Contains(r.stdout, `\u003c`) || strings.Contains(r.stdout, `\u0026`) {
		t.Errorf("JSON escapes HTML characters: %s", r.stdout)
	}

	// Text: the data as it is, one line per record.
	r = mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "--exit-when-idle", "500ms", "j")
	if want := "héllo \"<world>\" & tabs\t\n\xff\x00\xfea\n"; r.stdout != want {
		t.Errorf("text output %q, want %q", r.stdout, want)
	}
}

// TestTailFromTimestampAndSequence checks --from at-timestamp and after on
// a two-shard stream.
func TestTailFromTimestampAndSequence(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStream("p", 2))
	client := srv.Client()
	// Explicit hash keys 0 and 2^127 pick shard 0 and shard 1.
	put := func(shard int, data string) *kinesis.PutRecordOutput {
		key := "0"
		if shard == 1 {
			key = "170141183460469231731687303715884105728"
		}
		out, err := client.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String("p"), PartitionKey: aws.String(data), ExplicitHashKey: aws.String(key), Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	pause := func() { time.Sleep(30 * time.Millisecond) }
	put(0, "a1")
	put(1, "b1")
	pause()
	mid := time.Now()
	pause()
	a2 := put(0, "a2")
	pause()
	put(1, "b2")
	put(0, "a3")

	tail := func(from string) []string {
		t.Helper()
		r := mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", from, "--exit-when-idle", "500ms", "p")
		got := strings.Fields(r.stdout)
		// Shards interleave; compare as sets, each shard's order apart.
		return got
	}
	check := func(from string, want0, want1 []string) {
		t.Helper()
		var got0, got1 []string
		for _, d := range tail(from) {
			if d[0] == 'a' {
				got0 = append(got0, d)
			} else {
				got1 = append(got1, d)
			}
		}
		if strings.Join(got0, " ") != strings.Join(want0, " ") || strings.Join(got1, " ") != strings.Join(want1, " ") {
			t.Errorf("--from %s: shard 0 %v, shard 1 %v; want %v, %v", from, got0, got1, want0, want1)
		}
	}
	check("trim-horizon", []string{"a1", "a2", "a3"}, []string{"b1", "b2"})
	check("at-timestamp="+mid.UTC().Format(time.RFC3339Nano), []string{"a2", "a3"}, []string{"b2"})
	check(fmt.Sprintf("at-timestamp=%.3f", float64(mid.UnixMilli())/1000), []string{"a2", "a3"}, []string{"b2"})
	// after a2: a3 in a2's shard; in the other shard what arrived since a2.
	check("after="+*a2.SequenceNumber, []string{"a3"}, []string{"b2"})

	r := run(t.Context(), nil, "tail", "--endpoint", srv.Endpoint, "--from", "after=123", "p")
	if r.err == nil {
		t.Error("--from after=123 (no such sequence number): no error")
	}
	for _, bad := range []string{"now", "at-timestamp=yesterday", "after=", "after=12x", "latest=1"} {
		if r := run(t.Context(), nil, "tail", "--endpoint", srv.Endpoint, "--from", bad, "p"); r.err == nil || !strings.Contains(r.err.Error(), "--from") {
			t.Errorf("--from %s: err = %v, want one about --from", bad, r.err)
		}
	}
}

// TestTailLatest checks that --from latest shows only what arrives after
// tail starts.
func TestTailLatest(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStream("l", 2))
	mustRun(t, strings.NewReader("old-1\nold-2\n"), "put", "--endpoint", srv.Endpoint, "l")
	live := make(chan result, 1)
	go func() {
		live <- run(t.Context(), nil, "tail", "--endpoint", srv.Endpoint, "--exit-when-idle", "2s", "l")
	}()
	time.Sleep(time.Second) // tail has its iterators by then
	mustRun(t, strings.NewReader("new-1\nnew-2\nnew-3\n"), "put", "--endpoint", srv.Endpoint, "--partition-key", "k", "l")
	r := <-live
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.stdout != "new-1\nnew-2\nnew-3\n" {
		t.Errorf("tail --from latest printed %q, want the three new lines", r.stdout)
	}
}

// TestTailInterrupt sends SIGINT to a running tail: it stops, with what it
// read written out, and returns no error (exit status 0).
func TestTailInterrupt(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStreams("i"))
	mustRun(t, strings.NewReader("one\ntwo\n"), "put", "--endpoint", srv.Endpoint, "i")
	pr, pw := newPipe(t)
	done := make(chan error, 1)
	go func() {
		root := newRoot()
		root.SetOut(pw)
		root.SetArgs([]string{"tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "i"})
		done <- root.ExecuteContext(t.Context())
	}()
	// Once a record is out, tail has installed its signal handler.
	if got := pr.readLine(t); got != "one" {
		t.Fatalf("first line %q", got)
	}
	if got := pr.readLine(t); got != "two" {
		t.Fatalf("second line %q", got)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("tail after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail still running 10 s after SIGINT")
	}
}

// TestTailIdleWaitsForSlowPages reads 25,000 records (three GetRecords
// pages) through a proxy that holds every GetRecords answer for longer
// than --exit-when-idle: a page still on its way is not idleness, so tail
// prints every record before it exits.
func TestTailIdleWaitsForSlowPages(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStream("slow", 1))
	const n = 25000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d\n", i)
	}
	mustRun(t, strings.NewReader(in.String()), "put", "--endpoint", srv.Endpoint, "slow")
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // tail's last poll is cancelled in flight
	var slowed atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "Kinesis_20131202.GetRecords" {
			slowed.Add(1)
			time.Sleep(600 * time.Millisecond)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer slow.Close()
	r := mustRun(t, nil, "tail", "--endpoint", slow.URL, "--from", "trim-horizon", "--exit-when-idle", "300ms", "slow")
	if got := strings.Count(r.stdout, "\n"); got != n || r.stdout != in.String() {
		t.Errorf("tail printed %d lines, want the %d put, in order", got, n)
	}
	if slowed.Load() < 3 {
		t.Errorf("%d GetRecords calls went through the proxy, want at least 3", slowed.Load())
	}
}
