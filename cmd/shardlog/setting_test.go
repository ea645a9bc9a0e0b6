package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// parseServe parses serve's command line as serve does and returns the
// effective configuration, with the process environment.
func parseServe(args []string) (config, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetNormalizeFunc(normalizeFlag)
	f := addServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	return f.layers(os.Environ()).load()
}

// settingSamples gives every setting three valid values that differ from
// its default and from each other: one for the file, one for the
// environment, one for the flag. TestSettingLayers fails for a setting
// without samples, so that each new setting is tested through every layer.
var settingSamples = map[string][3]string{
	"listen":                            {"127.0.0.1:1111", "127.0.0.1:2222", "[::1]:3333"},
	"data_dir":                          {"/file", "/env", "/flag"},
	"region":                            {"eu-west-1", "eu-central-1", "ap-south-2"},
	"account_id":                        {"111111111111", "222222222222", "333333333333"},
	"log.level":                         {"debug", "warn", "error"},
	"log.format":                        {"console", "console", "console"},
	"storage.segment_bytes":             {"4194304", "8388608", "16777216"},
	"storage.index_interval_bytes":      {"128", "256", "512"},
	"storage.max_segment_age":           {"1m", "2m", "3m"},
	"storage.compression":               {"zstd", "s2", "zstd"},
	"storage.fsync":                     {"always", "never", "always"},
	"storage.fsync_interval":            {"2s", "3s", "4s"},
	"storage.retention_floor":           {"1m", "2m", "3m"},
	"storage.expire_interval":           {"1s", "2s", "3s"},
	"storage.max_loaded_shards":         {"100", "200", "300"},
	"storage.idle_shard_timeout":        {"1s", "2s", "3s"},
	"streams.create_delay":              {"1s", "2s", "3s"},
	"streams.delete_delay":              {"1s", "2s", "3s"},
	"streams.update_delay":              {"1s", "2s", "3s"},
	"limits.shard_limit":                {"1", "2", "3"},
	"limits.on_demand_stream_limit":     {"1", "2", "3"},
	"limits.max_body_bytes":             {"2097152", "3145728", "4194304"},
	"limits.max_inflight_body_bytes":    {"33554432", "67108864", "134217728"},
	"limits.max_conns":                  {"1", "2", "3"},
	"limits.shard_queue_bytes":          {"1048576", "65536", "4194304"},
	"limits.read_timeout":               {"1s", "2s", "3s"},
	"limits.write_timeout":              {"1s", "2s", "3s"},
	"limits.idle_timeout":               {"1s", "2s", "3s"},
	"limits.consumers_per_stream":       {"1", "2", "3"},
	"limits.update_shard_count_per_day": {"1", "2", "3"},
	"emulator.throughput":               {"true", "true", "true"},
	"emulator.write_bytes_per_second":   {"1", "2", "3"},
	"emulator.write_records_per_second": {"1", "2", "3"},
	"emulator.read_bytes_per_second":    {"1", "2", "3"},
	"emulator.read_calls_per_second":    {"1", "2", "3"},
	"emulator.error_probability":        {"0.25", "0.5", "0.75"},
	"iterator_ttl":                      {"1m", "2m", "3m"},
	"console":                           {"false", "false", "false"},
	"tls.cert_file":                     {"/file.pem", "/env.pem", "/flag.pem"},
	"tls.key_file":                      {"/file.key", "/env.key", "/flag.key"},
	"auth.mode":                         {"sigv4", "sigv4", "sigv4"},
	"auth.accept_unsigned":              {"true", "true", "true"},
	"auth.keys": {
		`[{access_key_id: F, secret_access_key: f, policy: '{"Version":"2012-10-17","Statement":[]}'}]`,
		`[{access_key_id: E, secret_access_key: e, policy: '{"Version":"2012-10-17","Statement":[]}'}]`,
		`[{access_key_id: G, secret_access_key: g, policy: '{"Version":"2012-10-17","Statement":[]}'}]`,
	},
	"admin.listen":        {"127.0.0.1:9001", "off", "127.0.0.1:9003"},
	"admin.expose_on_api": {"true", "true", "true"},
}

// settingCompanions are environment variables a sample needs to validate,
// when a setting depends on another (a certificate needs its key).
var settingCompanions = map[string][]string{
	"tls.cert_file": {"SHARDLOG_TLS_KEY_FILE=/companion.key"},
	"tls.key_file":  {"SHARDLOG_TLS_CERT_FILE=/companion.pem"},
	"auth.mode":     {`SHARDLOG_AUTH_KEYS=[{access_key_id: C, secret_access_key: c, policy: '{"Version":"2012-10-17","Statement":[]}'}]`},
}

// TestSettingLayers sets every declared setting through the file, the
// environment and a flag, in every combination, and checks that the value
// of the highest layer given wins: defaults < file < environment < flags.
func TestSettingLayers(t *testing.T) {
	for _, s := range settings() {
		samples, ok := settingSamples[s.key]
		if !ok {
			t.Errorf("setting %s has no samples in settingSamples", s.key)
			continue
		}
		t.Run(s.key, func(t *testing.T) {
			want := func(text string) any {
				c := defaultConfig()
				if err := s.parseScalar(&c, text); err != nil {
					t.Fatalf("sample %q: %v", text, err)
				}
				return s.get(&c)
			}
			def := defaultConfig()
			for i, sample := range samples {
				if reflect.DeepEqual(want(sample), s.get(&def)) {
					t.Fatalf("sample %d (%s) is the default", i, sample)
				}
			}
			// The key nested in its sections, as a file writes it.
			parts := strings.Split(s.key, ".")
			yamlDoc := ""
			for i, p := range parts[:len(parts)-1] {
				yamlDoc += strings.Repeat("  ", i) + p + ":\n"
			}
			yamlDoc += strings.Repeat("  ", len(parts)-1) + parts[len(parts)-1] + ": " + samples[0] + "\n"
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(yamlDoc), 0o600); err != nil {
				t.Fatal(err)
			}
			for mask := 1; mask < 8; mask++ {
				l := layers{env: settingCompanions[s.key]}
				winner := -1
				if mask&1 != 0 {
					l.file, winner = file, 0
				}
				if mask&2 != 0 {
					l.env, winner = append(l.env, s.envName()+"="+samples[1]), 1
				}
				if mask&4 != 0 {
					// Through the real flag set, as serve parses it.
					fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
					fs.SetNormalizeFunc(normalizeFlag)
					f := addServeFlags(fs)
					if err := fs.Parse([]string{"--" + s.flagName() + "=" + samples[2]}); err != nil {
						t.Fatalf("flag --%s: %v", s.flagName(), err)
					}
					l.flags, winner = f.given, 2
				}
				c, err := l.load()
				if err != nil {
					t.Fatalf("layers %03b: %v", mask, err)
				}
				if got := s.get(&c); !reflect.DeepEqual(got, want(samples[winner])) {
					t.Fatalf("layers %03b (file, env, flag): got %v, want %v", mask, got, want(samples[winner]))
				}
			}
		})
	}
}

// TestSettingSpellings pins how each layer spells a key.
func TestSettingSpellings(t *testing.T) {
	for _, s := range settings() {
		if s.key == "limits.max_inflight_body_bytes" {
			if s.envName() != "SHARDLOG_LIMITS_MAX_INFLIGHT_BODY_BYTES" || s.flagName() != "limits.max-inflight-body-bytes" {
				t.Fatalf("spelled %s and --%s", s.envName(), s.flagName())
			}
		}
		if strings.ContainsAny(s.flagName(), "_ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("flag --%s is not lowercase kebab-case", s.flagName())
		}
	}
}

// TestTLSFromFileAndEnvironment: the certificate named in the file and its
// key named in the environment make one valid TLS configuration (each
// layer used to be validated alone, which refused this).
func TestTLSFromFileAndEnvironment(t *testing.T) {
	certPath, keyPath := mustCert(t)
	file := writeConfig(t, "tls:\n  cert_file: "+certPath+"\n")
	c, err := layers{file: file, env: []string{"SHARDLOG_TLS_KEY_FILE=" + keyPath}}.load()
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.CertFile != certPath || c.TLS.KeyFile != keyPath {
		t.Fatalf("tls %+v", c.TLS)
	}
	if conf, _, err := c.tlsConfig(); err != nil || conf == nil {
		t.Fatalf("tls config: %v", err)
	}
	// Only one of the pair anywhere is still refused, naming where it came from.
	_, err = layers{file: file}.load()
	if err == nil || !strings.Contains(err.Error(), "config "+file+": key tls.cert_file") ||
		!strings.Contains(err.Error(), "must be set together") {
		t.Fatalf("certificate without key: %v", err)
	}
}

// TestLayerErrorsNameTheSource: a bad value names the key and the layer it
// came from.
func TestLayerErrorsNameTheSource(t *testing.T) {
	f := func(l layers, want string) {
		t.Helper()
		if _, err := l.load(); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
	f(layers{env: []string{"SHARDLOG_STORAGE_FSYNC=sometimes"}},
		`environment SHARDLOG_STORAGE_FSYNC: key storage.fsync: invalid value "sometimes": must be one of interval, always, never`)
	f(layers{env: []string{"SHARDLOG_LIMITS_MAX_CONNS=lots"}}, `environment SHARDLOG_LIMITS_MAX_CONNS: key limits.max_conns: cannot use "lots"`)
	f(layers{flags: map[string]string{"limits.max_conns": "0"}}, "flag --limits.max-conns: key limits.max_conns: invalid value 0: must be at least 1")
	f(layers{env: []string{"SHARDLOG_AUTH_KEYS=[{access_key_id: A, secret: x}]"}}, "unknown key auth.keys[0].secret")
	// Unrelated SHARDLOG_ variables (the tests' own) are not settings.
	if _, err := (layers{env: []string{"SHARDLOG_TEST_RECOVERY_PAUSE=1s", "SHARDLOG_NOT_A_KEY=1"}}).load(); err != nil {
		t.Fatal(err)
	}
}

// TestOldFlagSpellings: the flags of earlier versions still work, with a
// deprecation notice: snake_case keys, one dash, serve without its name.
func TestOldFlagSpellings(t *testing.T) {
	cfg, err := parseServe([]string{"--account_id=123456789012", "--emulator.error_probability", "0.5", "--data_dir", "/old"})
	if err != nil || cfg.AccountID != "123456789012" || cfg.Emulator.ErrorProbability != 0.5 || cfg.DataDir != "/old" {
		t.Fatalf("snake_case flags: %v %+v", err, cfg)
	}
	var notes bytes.Buffer
	root := rootCommand(io.Discard, io.Discard)
	got := legacyArgs(root, []string{"-data-dir", "/d", "-listen=127.0.0.1:1", "--account_id=1", "--storage.fsync", "always", "--", "-x"}, &notes)
	want := []string{"serve", "--data-dir", "/d", "--listen=127.0.0.1:1", "--account_id=1", "--storage.fsync", "always", "--", "-x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("legacyArgs = %q\nwant %q", got, want)
	}
	for _, note := range []string{"shardlog serve -data-dir", "Flag -data-dir has been deprecated, use --data-dir",
		"Flag -listen has been deprecated, use --listen", "Flag --account_id has been deprecated, use --account-id"} {
		if !strings.Contains(notes.String(), note) {
			t.Errorf("notes lack %q:\n%s", note, notes.String())
		}
	}
	if strings.Contains(notes.String(), "Flag --storage.fsync") {
		t.Errorf("a current spelling was noted:\n%s", notes.String())
	}
	// A command that parses its own flags (fsck) is left alone, and so
	// are values that look like flags but name none.
	if got := legacyArgs(root, []string{"fsck", "-json", "dir"}, io.Discard); !reflect.DeepEqual(got, []string{"fsck", "-json", "dir"}) {
		t.Fatalf("fsck args rewritten: %q", got)
	}
	if got := legacyArgs(root, []string{"bench", "--label", "-nothing"}, io.Discard); !reflect.DeepEqual(got, []string{"bench", "--label", "-nothing"}) {
		t.Fatalf("bench args rewritten: %q", got)
	}
}
