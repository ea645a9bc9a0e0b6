package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlog/shardlog/server"
)

// Layers of the configuration, later ones winning: the in-code defaults,
// the YAML file, SHARDLOG_<KEY> environment variables, then flags. The
// environment variable of a key is its dotted YAML path upper-cased with
// dots as underscores (storage.fsync -> SHARDLOG_STORAGE_FSYNC); every key
// is also a serve flag spelled as the dotted path (--storage.fsync=always),
// besides the short --listen and --data-dir. Values are parsed as YAML
// scalars, as in the file: 30s, 1048576, true.

// envPrefix starts every environment override.
const envPrefix = "SHARDLOG_"

// leaf is one settable key of the config: its dotted YAML path and field.
type leaf struct {
	key   string
	field reflect.Value
}

// leaves lists the leaf keys of c in declaration order, with addressable
// fields.
func (c *config) leaves() []leaf {
	var out []leaf
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			key := prefix + t.Field(i).Tag.Get("yaml")
			if f := v.Field(i); f.Kind() == reflect.Struct {
				walk(f, key+".")
			} else {
				out = append(out, leaf{key: key, field: f})
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

// envName is the environment variable that overrides key.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// setScalar parses s as a YAML scalar into field, naming key on error.
func setScalar(field reflect.Value, key, s string) error {
	if err := yaml.Unmarshal([]byte(s), field.Addr().Interface()); err != nil {
		return fmt.Errorf("key %s: cannot use %q: %s", key, s, yamlReason(err))
	}
	return nil
}

// overlayEnv sets every key whose SHARDLOG_<KEY> variable is set in env
// (os.Environ's form). Other SHARDLOG_ variables are left alone: the tests
// use some of their own.
func (c *config) overlayEnv(env []string) error {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			vals[k] = v
		}
	}
	for _, l := range c.leaves() {
		if v, ok := vals[envName(l.key)]; ok {
			if err := setScalar(l.field, l.key, v); err != nil {
				return fmt.Errorf("environment %s: %w", envName(l.key), err)
			}
		}
	}
	return nil
}

// keyFlags registers a flag per config key on fs and returns a function
// that applies the flags given to a config (so that a SIGHUP reload can
// apply them again over the reread file).
func keyFlags(fs *flag.FlagSet) func(c *config) error {
	var dummy config
	set := map[string]string{}
	for _, l := range dummy.leaves() {
		if l.key == "listen" || l.key == "data_dir" {
			continue // --listen and --data-dir already set them
		}
		isBool := l.field.Kind() == reflect.Bool
		fs.Var(&keyFlag{key: l.key, set: set, isBool: isBool}, l.key, "config key "+l.key+" (overrides the file and "+envName(l.key)+")")
	}
	return func(c *config) error {
		for _, l := range c.leaves() {
			if v, ok := set[l.key]; ok {
				if err := setScalar(l.field, l.key, v); err != nil {
					return fmt.Errorf("flag --%s: %w", l.key, err)
				}
			}
		}
		return nil
	}
}

// keyFlag records the raw value of one --<key> flag.
type keyFlag struct {
	key    string
	set    map[string]string
	isBool bool
}

func (f *keyFlag) String() string { return "" }

func (f *keyFlag) Set(s string) error {
	var probe config
	for _, l := range probe.leaves() {
		if l.key == f.key {
			if err := setScalar(l.field, l.key, s); err != nil {
				return err
			}
		}
	}
	f.set[f.key] = s
	return nil
}

func (f *keyFlag) IsBoolFlag() bool { return f.isBool }

// writeConfig writes c to w as YAML, one key per line in declaration order,
// durations as Go duration strings: the effective configuration.
func (c *config) write(w io.Writer) {
	section := ""
	for _, l := range c.leaves() {
		name := l.key
		if sec, key, ok := strings.Cut(l.key, "."); ok {
			if sec != section {
				fmt.Fprintf(w, "%s:\n", sec)
				section = sec
			}
			name = "  " + key
		} else {
			section = ""
		}
		fmt.Fprintf(w, "%s: %s\n", name, scalar(l.field))
	}
}

// scalar formats a config value as the file spells it.
func scalar(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return x.String()
	case string:
		if x == "" || strings.ContainsAny(x, ":#{}[],&*!|>'\"%@`") || x != strings.TrimSpace(x) {
			return strconv.Quote(x)
		}
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return strconv.Quote(x) // keep "000000000000" a string
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []authKeyConfig:
		// A flow sequence of flow mappings that loads back; secrets stay hidden.
		parts := make([]string, len(x))
		for i, k := range x {
			parts[i] = fmt.Sprintf("{access_key_id: %s, secret_access_key: %s, user: %s, policy: %s, policy_file: %s}",
				strconv.Quote(k.AccessKeyID), k.SecretAccessKey, strconv.Quote(k.User), strconv.Quote(k.Policy), strconv.Quote(k.PolicyFile))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// runConfig is `shardlog config check [FILE]`: it loads FILE (or only the
// defaults) with the environment overrides, validates it and prints the
// effective configuration. Exit status 0 when valid, 1 when not, 2 on usage.
func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || args[0] != "check" || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: shardlog config check [FILE]")
		return 2
	}
	path := ""
	if len(args) == 2 {
		path = args[1]
	}
	cfg, err := loadLayers(path, os.Environ(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "shardlog: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# effective configuration: defaults, %s, SHARDLOG_* environment\n", orDefault(path, "no file"))
	cfg.write(stdout)
	return 0
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// loadLayers is loadConfig plus the environment and the flags (flags may be
// nil), validated.
func loadLayers(path string, env []string, flags func(*config) error) (config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return cfg, err
	}
	if err := cfg.overlayEnv(env); err != nil {
		return cfg, err
	}
	if flags != nil {
		if err := flags(&cfg); err != nil {
			return cfg, err
		}
	}
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// validate checks the emulator section; bad formats the error.
func (e emulatorConfig) validate(bad func(key string, val any, want string) error) error {
	rates := []struct {
		key string
		val int
	}{
		{"emulator.write_bytes_per_second", e.WriteBytesPerSecond},
		{"emulator.write_records_per_second", e.WriteRecordsPerSecond},
		{"emulator.read_bytes_per_second", e.ReadBytesPerSecond},
		{"emulator.read_calls_per_second", e.ReadCallsPerSecond},
	}
	for _, r := range rates {
		if r.val < 1 {
			return bad(r.key, r.val, "must be at least 1")
		}
	}
	if e.ErrorProbability < 0 || e.ErrorProbability > 1 {
		return bad("emulator.error_probability", e.ErrorProbability, "must be between 0 and 1")
	}
	return nil
}

// serverLimits converts the emulator and account limits to server.Limits.
func (c *config) serverLimits() server.Limits {
	e := c.Emulator
	return server.Limits{
		Throughput:             e.Throughput,
		WriteBytesPerSecond:    e.WriteBytesPerSecond,
		WriteRecordsPerSecond:  e.WriteRecordsPerSecond,
		ReadBytesPerSecond:     e.ReadBytesPerSecond,
		ReadCallsPerSecond:     e.ReadCallsPerSecond,
		ErrorProbability:       e.ErrorProbability,
		ConsumersPerStream:     c.Limits.ConsumersPerStream,
		UpdateShardCountPerDay: c.Limits.ScalingsPerDay,
	}
}
