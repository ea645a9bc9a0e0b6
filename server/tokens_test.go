package server

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// pagingPolicy allows ListShards and ListStreamConsumers on one stream.
func pagingPolicy(stream string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:ListShards","kinesis:ListStreamConsumers","kinesis:GetRecords"],
	 "Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/` + stream + `"}]}`
}

// newTokenEnv starts a sigv4 server with the admin key AKIDEXAMPLE, AKIDA
// (paging on stream "app"), AKIDB (paging on stream "other") and AKIDNONE
// (no policy), with createPagedStreams' streams.
func newTokenEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t, func(o *Options) {
		o.Auth = Auth{Mode: AuthSigV4, Keys: []AuthKey{
			{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", User: "admin", Policy: mustPolicy(t, adminPolicy)},
			{AccessKeyID: "AKIDA", SecretAccessKey: "a-secret", User: "a", Policy: mustPolicy(t, pagingPolicy("app"))},
			{AccessKeyID: "AKIDB", SecretAccessKey: "b-secret", User: "b", Policy: mustPolicy(t, pagingPolicy("other"))},
			{AccessKeyID: "AKIDNONE", SecretAccessKey: "none-secret", User: "nobody"},
		}}
	})
	createPagedStreams(t, e)
	return e
}

// createPagedStreams creates streams "app" (3 shards, 3 consumers) and
// "other" (2 shards, 2 consumers).
func createPagedStreams(t *testing.T, e *testEnv) {
	t.Helper()
	for name, n := range map[string]int{"app": 3, "other": 2} {
		st := e.createStream(name, n)
		for i := range n {
			if _, err := st.RegisterConsumer("c" + string(rune('0'+i))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// flipBit is token with one bit of its sealed byte i flipped (counting
// from the end when i < 0).
func flipBit(t *testing.T, token string, i int) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q: %v", token, err)
	}
	raw[(i+len(raw))%len(raw)] ^= 0x04
	return base64.RawURLEncoding.EncodeToString(raw)
}

// plainShardsToken is a ListShards NextToken in the unsealed format of
// before, as an attacker would write one for stream.
func plainShardsToken(stream string) string {
	// A ListShards NextToken's body ({"v":1,"s":...}), in clear.
	b, _ := json.Marshal(struct {
		Version   int    `json:"v"`
		Stream    string `json:"s"`
		CreatedMs int64  `json:"c"`
		After     string `json:"a"`
		IssuedMs  int64  `json:"t"`
	}{Version: 1, Stream: stream, CreatedMs: time.Now().UnixMilli(), After: "shardId-000000000000", IssuedMs: time.Now().UnixMilli()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestTokensRefused: for each kind of token, a tampered, truncated,
// foreign (other data directory), other-kind or unsealed token gets the
// operation's InvalidArgumentException, whose message quotes at most 100
// characters of it; an old token gets the operation's expiry error. (No
// sigv4 here: the clock skew that ages tokens would age signatures too.)
func TestTokensRefused(t *testing.T) {
	e := newEnv(t)
	createPagedStreams(t, e)
	other := newEnv(t)
	other.createStream("app", 3)
	c, oc := e.clients[0], other.clients[0]
	app := e.store.StreamARN("app")

	shards, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("app"), MaxResults: aws.Int32(1)})
	if err != nil || shards.NextToken == nil {
		t.Fatalf("ListShards: %v", err)
	}
	foreignShards, err := oc.sdk.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("app"), MaxResults: aws.Int32(1)})
	if err != nil || foreignShards.NextToken == nil {
		t.Fatalf("ListShards on the other data directory: %v", err)
	}
	consumers, err := c.sdk.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(app), MaxResults: aws.Int32(1)})
	if err != nil || consumers.NextToken == nil {
		t.Fatalf("ListStreamConsumers: %v", err)
	}
	streams, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(1)})
	if err != nil || streams.NextToken == nil {
		t.Fatalf("ListStreams: %v", err)
	}
	it := iter(t, c, "app", "shardId-000000000000", "TRIM_HORIZON", nil, nil)
	long := strings.Repeat("A", 400)

	listShards := func(tok string) error {
		_, err := c.sdk.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String(tok)})
		return err
	}
	listConsumers := func(tok string) error {
		_, err := c.sdk.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(app), NextToken: aws.String(tok)})
		return err
	}
	listStreams := func(tok string) error {
		_, err := c.sdk.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: aws.String(tok)})
		return err
	}
	getRecords := func(tok string) error {
		_, err := c.sdk.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(tok)})
		return err
	}
	kinds := []struct {
		name    string
		call    func(string) error
		token   string
		invalid string // message prefix for a token that does not open
		expired string // error type once the token is old, "" if it never expires
	}{
		{"ListShards", listShards, *shards.NextToken, "Invalid NextToken: ", wire.ExpiredNextToken},
		{"ListStreamConsumers", listConsumers, *consumers.NextToken, "Invalid NextToken: ", wire.ExpiredNextToken},
		{"ListStreams", listStreams, *streams.NextToken, "Invalid NextToken: ", ""},
		{"GetRecords", getRecords, it, "Invalid ShardIterator.", wire.ExpiredIterator},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			if err := k.call(k.token); err != nil {
				t.Fatalf("the real token: %v", err)
			}
			bad := map[string]string{
				"bit flipped in the nonce": flipBit(t, k.token, 0),
				"bit flipped in the body":  flipBit(t, k.token, 20),
				"bit flipped in the tag":   flipBit(t, k.token, -1),
				"truncated":                k.token[:len(k.token)-2],
				"other data directory":     *foreignShards.NextToken,
				"unsealed ListShards":      plainShardsToken("app"),
				"garbage":                  "garbage",
				"long garbage":             long,
			}
			for _, other := range kinds {
				if other.name != k.name {
					bad["a "+other.name+" token"] = other.token
				}
			}
			for name, tok := range bad {
				err := k.call(tok)
				wantAPIError(t, err, wire.InvalidArgument, k.invalid)
				if msg := err.Error(); strings.Contains(msg, long[:101]) {
					t.Errorf("%s: the message quotes more than 100 characters of the token: %s", name, msg)
				}
			}
			if k.expired == "" {
				return
			}
			e.skew.Store(int64(5*time.Minute + time.Second))
			defer e.skew.Store(0)
			wantAPIError(t, k.call(k.token), k.expired, "")
		})
	}
}

// TestTokenAuthorization: a request carrying a sealed token is judged on
// the stream inside it; a token that does not open is judged on nothing
// and refused as invalid, whoever sends it.
func TestTokenAuthorization(t *testing.T) {
	e := newTokenEnv(t)
	c := e.clients[0]
	a, b := e.clientAs(c, "AKIDA", "a-secret"), e.clientAs(c, "AKIDB", "b-secret")
	nobody := e.clientAs(c, "AKIDNONE", "none-secret")
	appARN, otherARN := e.store.StreamARN("app"), e.store.StreamARN("other")

	// A pages its own stream, one shard and one consumer at a time.
	var ids []string
	in := &kinesis.ListShardsInput{StreamName: aws.String("app"), MaxResults: aws.Int32(1)}
	for {
		out, err := a.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("page %d: %v", len(ids), err)
		}
		ids = append(ids, shardIDs(out.Shards))
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if strings.Join(ids, "|") != "0|1|2" {
		t.Fatalf("A paged %q", ids)
	}
	var names []string
	cin := &kinesis.ListStreamConsumersInput{StreamARN: aws.String(appARN), MaxResults: aws.Int32(1)}
	for {
		out, err := a.ListStreamConsumers(ctx, cin)
		if err != nil {
			t.Fatalf("consumer page %d: %v", len(names), err)
		}
		for _, c := range out.Consumers {
			names = append(names, aws.ToString(c.ConsumerName))
		}
		if out.NextToken == nil {
			break
		}
		cin = &kinesis.ListStreamConsumersInput{StreamARN: aws.String(appARN), NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if strings.Join(names, ",") != "c0,c1,c2" {
		t.Fatalf("A listed consumers %q", names)
	}

	// B's real tokens for "other", replayed by A.
	bShards, err := b.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("other"), MaxResults: aws.Int32(1)})
	if err != nil || bShards.NextToken == nil {
		t.Fatalf("B ListShards: %v", err)
	}
	bConsumers, err := b.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(otherARN), MaxResults: aws.Int32(1)})
	if err != nil || bConsumers.NextToken == nil {
		t.Fatalf("B ListStreamConsumers: %v", err)
	}
	const denied = "User: arn:aws:iam::000000000000:user/a is not authorized to perform: "
	_, err = a.ListShards(ctx, &kinesis.ListShardsInput{NextToken: bShards.NextToken})
	wantAuthError(t, err, wire.AccessDenied, 400, denied+"kinesis:ListShards on resource: "+otherARN+" because")
	_, err = a.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(appARN), NextToken: bConsumers.NextToken})
	wantAuthError(t, err, wire.AccessDenied, 400, denied+"kinesis:ListStreamConsumers on resource: "+otherARN+" because")
	_, err = a.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(otherARN), NextToken: bConsumers.NextToken})
	wantAuthError(t, err, wire.AccessDenied, 400, denied+"kinesis:ListStreamConsumers on resource: "+otherARN+" because")
	// B's ListShards token named with A's stream: judged on both.
	_, err = a.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("app"), NextToken: bShards.NextToken})
	wantAuthError(t, err, wire.AccessDenied, 400, denied+"kinesis:ListShards on resource: "+otherARN+" because")

	// Forged tokens for "other" name no resource: refused as invalid by A,
	// by a key that may do anything anywhere, and by a key that may do
	// nothing; none of them sees a shard.
	forged := []string{plainShardsToken("other"), flipBit(t, *bShards.NextToken, 17), flipBit(t, *bShards.NextToken, -1)}
	for _, cl := range []*kinesis.Client{a, c.sdk, nobody} {
		for _, tok := range forged {
			out, err := cl.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String(tok)})
			if out != nil {
				t.Fatalf("a forged token listed %d shards", len(out.Shards))
			}
			wantAuthError(t, err, wire.InvalidArgument, 400, "Invalid NextToken: ")
		}
		// A forged consumers token with StreamARN "app": judged on "app".
		_, err := cl.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(appARN), NextToken: aws.String(flipBit(t, *bConsumers.NextToken, 17))})
		if cl == nobody {
			wantAuthError(t, err, wire.AccessDenied, 400, "User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: kinesis:ListStreamConsumers on resource: "+appARN)
		} else {
			wantAuthError(t, err, wire.InvalidArgument, 400, "Invalid NextToken: ")
		}
	}
}
