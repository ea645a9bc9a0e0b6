package streamcli

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestResolveEndpoint(t *testing.T) {
	f := func(flag, kinesisEnv, env, want string) {
		t.Helper()
		getenv := func(k string) string {
			return map[string]string{envEndpointKinesis: kinesisEnv, envEndpoint: env}[k]
		}
		if got := resolveEndpoint(flag, getenv); got != want {
			t.Errorf("resolveEndpoint(%q, %q, %q) = %q, want %q", flag, kinesisEnv, env, got, want)
		}
	}
	f("", "", "", "http://127.0.0.1:4567")
	f("", "", "http://all:1", "http://all:1")
	f("", "http://kin:2", "http://all:1", "http://kin:2")
	f("http://flag:3", "http://kin:2", "http://all:1", "http://flag:3")
}

func TestIsLoopback(t *testing.T) {
	f := func(endpoint string, want bool) {
		t.Helper()
		if got := isLoopback(endpoint); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", endpoint, got, want)
		}
	}
	f("http://127.0.0.1:4567", true)
	f("http://127.3.2.1", true)
	f("https://localhost:4567/", true)
	f("http://[::1]:4567", true)
	f("https://kinesis.us-east-1.amazonaws.com", false)
	f("http://10.0.0.1:4567", false)
	f("http://localhost.example.com", false)
	f("::not a url", false)
}

func TestParseFrom(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 500_000_000, time.UTC)
	f := func(s string, want from) {
		t.Helper()
		got, err := parseFrom(s)
		if err != nil {
			t.Fatalf("parseFrom(%q): %v", s, err)
		}
		if got.kind != want.kind || !got.at.Equal(want.at) || got.seq != want.seq {
			t.Errorf("parseFrom(%q) = %+v, want %+v", s, got, want)
		}
	}
	f("latest", from{kind: types.ShardIteratorTypeLatest})
	f("trim-horizon", from{kind: types.ShardIteratorTypeTrimHorizon})
	f("at-timestamp=2024-05-06T07:08:09.5Z", from{kind: types.ShardIteratorTypeAtTimestamp, at: at})
	f("at-timestamp=2024-05-06T09:08:09.5+02:00", from{kind: types.ShardIteratorTypeAtTimestamp, at: at})
	f("at-timestamp=1714979289.5", from{kind: types.ShardIteratorTypeAtTimestamp, at: at})
	f("after=49590338271490256608559692538361571095921575989136588898", from{kind: types.ShardIteratorTypeAfterSequenceNumber, seq: "49590338271490256608559692538361571095921575989136588898"})
	for _, bad := range []string{"", "LATEST", "trim_horizon", "at-timestamp", "at-timestamp=", "at-timestamp=1714979289x", "after", "after=-1", "latest=now"} {
		if _, err := parseFrom(bad); err == nil {
			t.Errorf("parseFrom(%q): no error", bad)
		}
	}
}

func TestJSONField(t *testing.T) {
	f := func(line, want string) {
		t.Helper()
		got, err := jsonField([]byte(line), "k")
		if err != nil || got != want {
			t.Errorf("jsonField(%s) = %q, %v; want %q", line, got, err, want)
		}
	}
	f(`{"k":"a b"}`, "a b")
	f(`{"k":12.5,"x":1}`, "12.5")
	f(`{"k":true}`, "true")
	f(`{"k":{"nested":1}}`, `{"nested":1}`)
	for _, bad := range []string{`{"k":null}`, `{"j":1}`, `[1]`, `{"k":""}`, `{"k":"` + string(make([]byte, 257)) + `"}`} {
		if _, err := jsonField([]byte(bad), "k"); err == nil {
			t.Errorf("jsonField(%q): no error", bad)
		}
	}
}
