package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/shard"
)

// writeConfig writes a config file into a temporary directory and returns
// its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDefaultConfigFile keeps the top-level config.yaml equal to the
// defaults built into the binary.
func TestDefaultConfigFile(t *testing.T) {
	got, err := loadConfig("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.yaml differs from defaultConfig():\n file: %+v\n code: %+v", got, want)
	}
	// Every key and section appears in the file, so the file documents
	// them all.
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings() {
		for _, key := range strings.Split(s.key, ".") {
			if !strings.Contains(string(data), key+":") {
				t.Errorf("config.yaml does not mention key %s", s.key)
			}
		}
	}
}

func TestDefaultsMatchPackages(t *testing.T) {
	c := defaultConfig()
	if err := c.validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	so := c.storeOptions(zerolog.Nop())
	want := shard.DefaultOptions("./data")
	if so.Segment.MaxSegmentBytes != want.Segment.MaxSegmentBytes || so.Fsync != want.Fsync ||
		so.FsyncInterval != want.FsyncInterval || so.RetentionFloor != want.RetentionFloor ||
		so.Region != want.Region || so.AccountID != want.AccountID || so.Dir != want.Dir {
		t.Fatalf("store options from defaults = %+v, want %+v", so, want)
	}
}

func TestPartialFileKeepsDefaults(t *testing.T) {
	path := writeConfig(t, `
listen: 127.0.0.1:9999
storage:
  fsync: always
  compression: zstd
limits:
  # a section with only comments sets nothing
streams:
`)
	got, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig()
	want.Listen = "127.0.0.1:9999"
	want.Storage.Fsync = "always"
	want.Storage.Compression = "zstd"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	so := got.storeOptions(zerolog.Nop())
	if so.Fsync != shard.FsyncAlways || so.Segment.Compression != segment.Zstd {
		t.Fatalf("store options: fsync %q compression %v", so.Fsync, so.Segment.Compression)
	}
}

// TestRenamedKeyStillLoads: a file written for an earlier release, which
// called the expiry period compact_interval, keeps loading.
func TestRenamedKeyStillLoads(t *testing.T) {
	got, err := loadConfig(writeConfig(t, "storage:\n  compact_interval: 7s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Storage.ExpireInterval != 7*time.Second {
		t.Fatalf("expire interval %v, want 7s", got.Storage.ExpireInterval)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	got, err := loadConfig(writeConfig(t, "# nothing here\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaultConfig()) {
		t.Fatalf("got %+v", got)
	}
}

func TestFileSetsEveryKind(t *testing.T) {
	got, err := loadConfig(writeConfig(t, `
account_id: "123456789012"
storage: {segment_bytes: 4194304, max_segment_age: 90s, retention_floor: 1m}
streams: {create_delay: 500ms}
limits: {max_conns: 3}
iterator_ttl: 1m
`))
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != "123456789012" || got.Storage.SegmentBytes != 4<<20 ||
		got.Storage.MaxSegmentAge != 90*time.Second || got.Storage.RetentionFloor != time.Minute ||
		got.Streams.CreateDelay != 500*time.Millisecond || got.Limits.MaxConns != 3 ||
		got.IteratorTTL != time.Minute {
		t.Fatalf("got %+v", got)
	}
	vo := got.serverOptions(zerolog.Nop())
	if vo.MaxConns != 3 || vo.IteratorTTL != time.Minute {
		t.Fatalf("server options %+v", vo)
	}
}

// TestBadConfigNamesKey checks that each refused file names the offending
// key in its error.
func TestBadConfigNamesKey(t *testing.T) {
	f := func(yaml, key string) {
		t.Helper()
		_, err := loadConfig(writeConfig(t, yaml))
		if err == nil {
			t.Fatalf("%q: accepted", yaml)
		}
		if !strings.Contains(err.Error(), key) {
			t.Fatalf("%q: error %q does not name %s", yaml, err, key)
		}
	}
	// Unknown keys, at the top and inside a section.
	f("lisen: 127.0.0.1:1\n", "unknown key lisen")
	f("storage:\n  fsynk: always\n", "unknown key storage.fsynk")
	f("log: {level: info, colour: true}\n", "unknown key log.colour")
	// Bad values.
	f("storage:\n  fsync: sometimes\n", "storage.fsync")
	f("account_id: 12\n", "account_id")
	f("account_id: 12345678901x\n", "account_id")
	f("log: {level: loud}\n", "log.level")
	f("log: {format: xml}\n", "log.format")
	f("storage: {compression: gzip}\n", "storage.compression")
	f("limits: {max_inflight_body_bytes: 1048576}\n", "limits.max_inflight_body_bytes")
	f("storage: {segment_bytes: 1000}\n", "storage.segment_bytes")
	f("storage: {segment_bytes: lots}\n", "storage.segment_bytes")
	f("storage: {index_interval_bytes: 8}\n", "storage.index_interval_bytes")
	f("storage: {fsync_interval: 5}\n", "storage.fsync_interval")
	f("storage: {fsync_interval: 0s}\n", "storage.fsync_interval")
	f("storage: {retention_floor: 48h}\n", "storage.retention_floor")
	f("streams: {create_delay: -1s}\n", "streams.create_delay")
	f("limits: {max_conns: 0}\n", "limits.max_conns")
	f("limits: {shard_queue_bytes: -1}\n", "limits.shard_queue_bytes")
	f("limits: {max_body_bytes: 10}\n", "limits.max_body_bytes")
	f("iterator_ttl: forever\n", "iterator_ttl")
	f("region: mars\n", "region")
	f("listen: [a, b]\n", "listen")
	f("listen: localhost\n", "listen")
	f("data_dir: ''\n", "data_dir")
	f("admin: {listen: 4568}\n", "admin.listen")
	f("admin: {expose_on_api: sometimes}\n", "admin.expose_on_api")
	// Wrong shapes.
	f("storage: 5\n", "storage")
	f("storage: {fsync: always}\nstorage: {fsync: never}\n", "storage is set twice")
}

func TestMissingFile(t *testing.T) {
	if _, err := loadConfig(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	path := writeConfig(t, "listen: 127.0.0.1:1111\ndata_dir: /from/file\nregion: eu-west-1\n")
	cfg, err := parseServe([]string{"--config", path, "--listen", "127.0.0.1:2222"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:2222" || cfg.DataDir != "/from/file" || cfg.Region != "eu-west-1" {
		t.Fatalf("got listen %q data_dir %q region %q", cfg.Listen, cfg.DataDir, cfg.Region)
	}
	cfg, err = parseServe([]string{"--data-dir", "/from/flag"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/flag" || cfg.Listen != defaultConfig().Listen {
		t.Fatalf("got listen %q data_dir %q", cfg.Listen, cfg.DataDir)
	}
	if _, err := parseServe([]string{"--data-dir", ""}); err == nil || !strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("empty --data-dir: %v", err)
	}
	if _, err := parseServe([]string{"--bogus"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestRunVersionAndUsage(t *testing.T) {
	var out strings.Builder
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "shardlog "+version+"\ncommit: ") {
		t.Fatalf("version: code %d output %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command: code %d", code)
	}
	if code := run([]string{"serve", "--config", "/nonexistent.yaml"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("bad config: code %d", code)
	}
}

func TestNewLogger(t *testing.T) {
	var buf strings.Builder
	log := newLogger(logConfig{Level: "warn", Format: "json"}, &buf)
	log.Info().Msg("hidden")
	log.Warn().Str("stream", "s").Msg("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"stream":"s"`) {
		t.Fatalf("json logger wrote %q", out)
	}
	buf.Reset()
	log = newLogger(logConfig{Level: "disabled", Format: "console"}, &buf)
	log.Error().Msg("nothing")
	if buf.Len() != 0 {
		t.Fatalf("disabled logger wrote %q", buf.String())
	}
	log = newLogger(logConfig{Level: "debug", Format: "console"}, &buf)
	log.Debug().Str("stream", "s").Msg("for people")
	if out := buf.String(); !strings.Contains(out, "for people") || !strings.Contains(out, "stream=s") {
		t.Fatalf("console logger wrote %q", out)
	}
}

func TestConsoleKey(t *testing.T) {
	def := defaultConfig()
	if !def.serverOptions(zerolog.Nop()).Console {
		t.Fatal("the web console is off by default")
	}
	got, err := loadConfig(writeConfig(t, "console: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.serverOptions(zerolog.Nop()).Console {
		t.Fatal("console: false left the console on")
	}
	if _, err := loadConfig(writeConfig(t, "console: maybe\n")); err == nil || !strings.Contains(err.Error(), "console") {
		t.Fatalf("console: maybe: %v", err)
	}
}

// TestAdminKeys: where the admin listener binds, by admin.listen and
// auth.mode, and that admin.expose_on_api reaches the server.
func TestAdminKeys(t *testing.T) {
	sigv4 := "auth:\n  mode: sigv4\n  keys: [{access_key_id: A, secret_access_key: s, policy: '{\"Version\":\"2012-10-17\",\"Statement\":[]}'}]\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"none, default", "", ""},
		{"none, set", "admin: {listen: '127.0.0.1:9000'}\n", "127.0.0.1:9000"},
		{"sigv4, default", sigv4, defaultAdminListen},
		{"sigv4, set", sigv4 + "admin: {listen: '[::1]:9000'}\n", "[::1]:9000"},
		{"sigv4, off", sigv4 + "admin: {listen: 'off'}\n", ""},
		{"none, off", "admin: {listen: 'off'}\n", ""},
	} {
		path := writeConfig(t, tc.yaml)
		if err := os.Chmod(path, 0o600); err != nil { // it may hold keys
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.adminAddr(); got != tc.want {
			t.Errorf("%s: admin listener at %q, want %q", tc.name, got, tc.want)
		}
	}
	path := writeConfig(t, sigv4+"admin: {expose_on_api: true}\n")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.serverOptions(zerolog.Nop()).ExposeAdminOnAPI {
		t.Fatal("admin.expose_on_api: true did not reach server.Options")
	}
	def := defaultConfig()
	if def.serverOptions(zerolog.Nop()).ExposeAdminOnAPI {
		t.Fatal("expose_on_api is on by default")
	}
	for addr, want := range map[string]bool{"127.0.0.1:4568": true, "[::1]:1": true, "localhost:1": true, "0.0.0.0:4568": false, "10.0.0.1:1": false} {
		if loopback(addr) != want {
			t.Errorf("loopback(%q) = %v", addr, !want)
		}
	}
}
