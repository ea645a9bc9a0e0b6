package streamcli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/server/kinesistest"
)

// TestPutPartitionKeys checks the three ways of choosing partition keys.
func TestPutPartitionKeys(t *testing.T) {
	srv := kinesistest.New(t, kinesistest.WithStream("k", 4))
	ep := []string{"--endpoint", srv.Endpoint}
	keys := func() map[string][]string {
		t.Helper()
		r := mustRun(t, nil, append([]string{"tail", "--from", "trim-horizon", "--format", "json", "--exit-when-idle", "500ms", "k"}, ep...)...)
		byKey := map[string][]string{}
		for _, rec := range parseJSONLines(t, r.stdout) {
			byKey[rec.PartitionKey] = append(byKey[rec.PartitionKey], rec.Data)
		}
		return byKey
	}

	// Default: the line number, which spreads records over the shards.
	var in strings.Builder
	for i := 1; i <= 400; i++ {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	mustRun(t, strings.NewReader(in.String()), append([]string{"put", "k"}, ep...)...)
	byKey := keys()
	for i := 1; i <= 400; i++ {
		if got := byKey[fmt.Sprint(i)]; len(got) != 1 || got[0] != fmt.Sprintf("line %d", i) {
			t.Fatalf("key %d: %q, want [line %d]", i, got, i)
		}
	}
	perShard := map[string]int{}
	tail := mustRun(t, nil, append([]string{"tail", "--from", "trim-horizon", "--format", "json", "--exit-when-idle", "500ms", "k"}, ep...)...)
	for _, rec := range parseJSONLines(t, tail.stdout) {
		perShard[rec.ShardID]++
	}
	for id, n := range perShard {
		if n < 50 {
			t.Errorf("shard %s got %d of 400 records with line-number keys: not spread", id, n)
		}
	}
	if len(perShard) != 4 {
		t.Errorf("records on %d shards, want all 4: %v", len(perShard), perShard)
	}

	// --partition-key: one key for every record, from a file.
	file := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(file, []byte("a\nb\r\n\nc"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, nil, append([]string{"put", "--file", file, "--partition-key", "fixed", "k"}, ep...)...)
	if !strings.HasPrefix(r.stderr, "put 4 records (4 bytes) to k in ") {
		t.Errorf("summary %q", r.stderr)
	}
	// Lines are kept as they are ("\r" too), empty ones as empty records,
	// and a last line without "\n" is a record too.
	if got := strings.Join(keys()["fixed"], "|"); got != "a|b\r||c" {
		t.Errorf("records with key fixed: %q, want a|b\\r||c", got)
	}

	// --key-field: a JSON field, a string's value or another value's text.
	mustRun(t, strings.NewReader(`{"user":"ann","v":1}`+"\n"+`{"user":4.5,"v":2}`+"\n"),
		append([]string{"put", "--key-field", "user", "k"}, ep...)...)
	byKey = keys()
	if len(byKey["ann"]) != 1 || len(byKey["4.5"]) != 1 {
		t.Errorf("--key-field user: keys ann %v, 4.5 %v", byKey["ann"], byKey["4.5"])
	}
	for _, bad := range []struct{ in, want string }{
		{`{"user":"bob"}` + "\n" + `{"name":"x"}` + "\n", `line 2: no field "user"`},
		{"not json\n", "line 1: not a JSON object"},
		{`{"user":""}` + "\n", `line 1: field "user" is empty`},
	} {
		r := run(t.Context(), strings.NewReader(bad.in), append([]string{"put", "--key-field", "user", "k"}, ep...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), bad.want) {
			t.Errorf("put --key-field of %q: err = %v, want %q", bad.in, r.err, bad.want)
		}
	}
	if r := run(t.Context(), nil, append([]string{"put", "--key-field", "user", "--partition-key", "p", "k"}, ep...)...); r.err == nil {
		t.Error("--key-field with --partition-key: no error")
	}
	if r := run(t.Context(), strings.NewReader("x\n"), append([]string{"put", "nosuchstream"}, ep...)...); r.err == nil || !strings.Contains(r.err.Error(), "ResourceNotFoundException") {
		t.Errorf("put to a missing stream: err = %v", r.err)
	}
}

// TestPutRetriesThrottled puts more records into one shard than its
// emulated write limit allows: put retries the refused ones and every
// record lands once. With line-number keys (all distinct) retried records
// land after later ones, which no key's order notices; with one key for
// all, --ordered keeps them in input order. The limits leave a wide margin
// for a slow machine: 3,500 records in 7 calls against 1,000 records/s
// (and a second of burst), and 300 one-record calls against 100 records/s,
// which only a put slower than 2 s would not exceed.
func TestPutRetriesThrottled(t *testing.T) {
	limited := func(stream string, recordsPerSecond int) *kinesistest.Server {
		return kinesistest.New(t, kinesistest.WithStream(stream, 1),
			kinesistest.WithLimits(server.Limits{Throughput: true, WriteRecordsPerSecond: recordsPerSecond}))
	}
	input := func(n int) string {
		var in strings.Builder
		for i := range n {
			fmt.Fprintf(&in, "%d\n", i)
		}
		return in.String()
	}
	retried := regexp.MustCompile(`put (\d+) records \(.*\) to \w+ in .*: \d+ PutRecords calls, (\d+) records retried\n`)
	check := func(srv *kinesistest.Server, stream string, n int, inOrder bool, args ...string) {
		t.Helper()
		in := input(n)
		r := mustRun(t, strings.NewReader(in), append([]string{"put", "--endpoint", srv.Endpoint, stream}, args...)...)
		if m := retried.FindStringSubmatch(r.stderr); m == nil || m[1] != fmt.Sprint(n) || m[2] == "0" {
			t.Errorf("%s: summary %q, want %d records put and some retried", stream, r.stderr, n)
		}
		if strings.Contains(r.stderr, "warning") {
			t.Errorf("%s: unexpected warning: %q", stream, r.stderr)
		}
		if slices.Contains(args, "--progress") && !regexp.MustCompile(`(?m)^put: \d+ records, .*, \d+ records/s, \d+ retried$`).MatchString(r.stderr) {
			t.Errorf("%s: --progress: no progress line in %q", stream, r.stderr)
		}
		out := mustRun(t, nil, "tail", "--endpoint", srv.Endpoint, "--from", "trim-horizon", "--exit-when-idle", "500ms", stream)
		got, want := strings.Split(out.stdout, "\n"), strings.Split(in, "\n")
		if !inOrder {
			slices.Sort(got)
			slices.Sort(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: tail printed %d lines, want the %d put (in order: %v)", stream, len(got), len(want), inOrder)
		}
	}
	check(limited("distinct", 1000), "distinct", 3500, false, "--progress")
	check(limited("onekey", 100), "onekey", 300, true, "--partition-key", "one", "--ordered")
}

// TestPutExactlyOnceToAnotherProcess puts 200,000 lines into a server in
// another process and reads each back exactly once. Against such a server
// the SDK's own request bodies made about one PutRecords call in a few
// hundred fail after the server had applied it, and the SDK's retry stored
// its records twice.
func TestPutExactlyOnceToAnotherProcess(t *testing.T) {
	endpoint := startServerProcess(t)
	const n = 200000
	mustRun(t, nil, "streams", "create", "--endpoint", endpoint, "--shards", "2", "once")
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d\n", i)
	}
	mustRun(t, strings.NewReader(in.String()), "put", "--endpoint", endpoint, "once")
	r := mustRun(t, nil, "tail", "--endpoint", endpoint, "--from", "trim-horizon", "--exit-when-idle", "1s", "once")
	seen := make([]bool, n)
	count := 0
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		i, err := strconv.Atoi(l)
		if err != nil || i < 0 || i >= n {
			t.Fatalf("unexpected line %q", l)
		}
		if seen[i] {
			t.Fatalf("line %d stored twice", i)
		}
		seen[i] = true
		count++
	}
	if count != n {
		t.Errorf("%d lines read back, want %d", count, n)
	}
}
