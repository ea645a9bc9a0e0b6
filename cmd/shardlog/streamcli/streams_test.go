package streamcli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog/server/kinesistest"
)

// TestStreamsCommands creates, lists, describes and deletes streams
// through the commands and checks their tables.
func TestStreamsCommands(t *testing.T) {
	srv := kinesistest.New(t)
	ep := []string{"--endpoint", srv.Endpoint}
	streams := func(args ...string) result {
		t.Helper()
		return mustRun(t, nil, append(append([]string{"streams"}, args...), ep...)...)
	}

	r := streams("create", "--shards", "3", "orders")
	if !regexp.MustCompile(`^stream orders is ACTIVE with 3 open shards \(arn:aws:kinesis:us-east-1:\d{12}:stream/orders\)\n$`).MatchString(r.stdout) {
		t.Errorf("create: %q", r.stdout)
	}
	r = streams("create", "--on-demand", "clicks")
	if !strings.HasPrefix(r.stdout, "stream clicks is ACTIVE with 4 open shards") {
		t.Errorf("create --on-demand: %q", r.stdout)
	}
	if r := run(t.Context(), nil, "streams", "create", "--shards", "2", "--on-demand", "x", "--endpoint", srv.Endpoint); r.err == nil {
		t.Error("create --shards --on-demand: no error")
	}
	if r := run(t.Context(), nil, "streams", "create", "orders", "--endpoint", srv.Endpoint); r.err == nil || !strings.Contains(r.err.Error(), "ResourceInUseException") {
		t.Errorf("create of an existing stream: err = %v, want ResourceInUseException", r.err)
	}

	r = streams("list")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("list: %d lines, want a header and 2 streams:\n%s", len(lines), r.stdout)
	}
	wantRows := [][]string{
		{"NAME", "STATUS", "MODE", "SHARDS", "CREATED"},
		{"clicks", "ACTIVE", "ON_DEMAND", "4"},
		{"orders", "ACTIVE", "PROVISIONED", "3"},
	}
	for i, want := range wantRows {
		got := strings.Fields(lines[i])
		if len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("list line %d: %q, want it to start with %v", i, lines[i], want)
		}
	}
	// The columns are aligned: every line has SHARDS at the same offset.
	col := strings.Index(lines[0], "SHARDS")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("list: column SHARDS not aligned at %d in %q", col, l)
		}
	}

	client := srv.Client()
	if _, err := client.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName: aws.String("orders"), ShardToSplit: aws.String("shardId-000000000001"),
		NewStartingHashKey: aws.String(midpoint(t, client, "orders", "shardId-000000000001")),
	}); err != nil {
		t.Fatal(err)
	}
	r = streams("describe", "orders")
	summary, shards, ok := strings.Cut(r.stdout, "\n\n")
	if !ok {
		t.Fatalf("describe: no blank line between summary and shards:\n%s", r.stdout)
	}
	for _, want := range []string{
		`(?m)^Name:\s+orders$`,
		`(?m)^ARN:\s+arn:aws:kinesis:us-east-1:\d{12}:stream/orders$`,
		`(?m)^Status:\s+ACTIVE$`,
		`(?m)^Mode:\s+PROVISIONED$`,
		`(?m)^Open shards:\s+4$`,
		`(?m)^Retention:\s+24 hours$`,
		`(?m)^Encryption:\s+NONE$`,
		`(?m)^Consumers:\s+0$`,
		`(?m)^Created:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`,
	} {
		if !regexp.MustCompile(want).MatchString(summary) {
			t.Errorf("describe summary does not match %s:\n%s", want, summary)
		}
	}
	shardRows := map[string][]string{}
	for i, l := range strings.Split(strings.TrimSuffix(shards, "\n"), "\n") {
		f := strings.Fields(l)
		if i == 0 {
			if l != strings.TrimRight(l, " ") || strings.Join(f, " ") != "SHARD STATE PARENTS HASH KEYS" {
				t.Errorf("describe shard header %q", l)
			}
			continue
		}
		shardRows[f[0]] = f[1:]
	}
	wantShards := map[string]string{
		"shardId-000000000000": "open -",
		"shardId-000000000001": "closed -",
		"shardId-000000000002": "open -",
		"shardId-000000000003": "open shardId-000000000001",
		"shardId-000000000004": "open shardId-000000000001",
	}
	if len(shardRows) != len(wantShards) {
		t.Errorf("describe: shards %v, want %v", shardRows, wantShards)
	}
	for id, want := range wantShards {
		got := shardRows[id]
		if len(got) != 3 || strings.Join(got[:2], " ") != want || !regexp.MustCompile(`^\d+-\d+$`).MatchString(got[2]) {
			t.Errorf("describe: shard %s: %v, want %s and a hash key range", id, got, want)
		}
	}
	if !strings.Contains(shards, "shardId-000000000000  open    -                     0-") {
		t.Errorf("describe: shard 0 row not as expected:\n%s", shards)
	}

	r = streams("delete", "orders")
	if r.stdout != "deleted stream orders\n" {
		t.Errorf("delete: %q", r.stdout)
	}
	r = streams("list")
	if strings.Contains(r.stdout, "orders") || !strings.Contains(r.stdout, "clicks") {
		t.Errorf("list after delete:\n%s", r.stdout)
	}
	if r := run(t.Context(), nil, "streams", "describe", "orders", "--endpoint", srv.Endpoint); r.err == nil || !strings.Contains(r.err.Error(), "ResourceNotFoundException") {
		t.Errorf("describe of a deleted stream: err = %v, want ResourceNotFoundException", r.err)
	}
	streams("delete", "clicks")
	r = streams("list")
	if r.stdout != "" || r.stderr != "no streams\n" {
		t.Errorf("list of no streams: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}
