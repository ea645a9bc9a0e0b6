package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// layers says where a configuration comes from. Later layers win: the
// defaults, the YAML file, SHARDLOG_<KEY> environment variables, then
// flags. Only the merged result is validated, so a key may come from one
// layer and a key it depends on from another (tls.cert_file in the file,
// tls.key_file from the environment).
type layers struct {
	file  string            // YAML file; "" for none
	env   []string          // os.Environ's form; nil reads no environment
	flags map[string]string // setting key -> the text of its flag, as given
}

// load merges the layers and validates the result. An error names the
// layer and the key: `config my.yaml: line 3: unknown key storage.fsynk`,
// `environment SHARDLOG_STORAGE_FSYNC: key storage.fsync: invalid value ...`.
func (l layers) load() (config, error) {
	c := defaultConfig()
	origin := map[string]string{} // key -> the layer its value came from
	if l.file != "" {
		data, err := os.ReadFile(l.file)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		set, err := c.overlayFile(data)
		if err != nil {
			return c, fmt.Errorf("config %s: %w", l.file, err)
		}
		for _, key := range set {
			origin[key] = "config " + l.file
		}
		if err := c.checkSecretsPrivate(l.file); err != nil {
			return c, err
		}
	}
	env := map[string]string{}
	for _, kv := range l.env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			env[k] = v
		}
	}
	all := settings()
	for _, s := range all {
		if v, ok := env[s.envName()]; ok {
			if err := s.parseScalar(&c, v); err != nil {
				return c, fmt.Errorf("environment %s: %w", s.envName(), err)
			}
			origin[s.key] = "environment " + s.envName()
		}
	}
	for _, s := range all {
		if v, ok := l.flags[s.key]; ok {
			if err := s.parseScalar(&c, v); err != nil {
				return c, fmt.Errorf("flag --%s: %w", s.flagName(), err)
			}
			origin[s.key] = "flag --" + s.flagName()
		}
	}
	for _, s := range all {
		if err := s.validate(&c); err != nil {
			if o, ok := origin[s.key]; ok {
				return c, fmt.Errorf("%s: %w", o, err)
			}
			return c, err
		}
	}
	return c, nil
}

// overlay sets the keys present in the YAML document data; see overlayFile.
func (c *config) overlay(data []byte) error {
	_, err := c.overlayFile(data)
	return err
}

// overlayFile sets the keys present in the YAML document data and returns
// them. It refuses unknown and repeated keys, values of the wrong type and
// a second document, each with an error that names the key and its line.
// It walks the node tree itself rather than using Decoder.KnownFields,
// whose errors name neither the section of an unknown key nor the key of a
// mistyped value.
func (c *config) overlayFile(data []byte) ([]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil // an empty file sets nothing
	case err != nil:
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	byKey := map[string]setting{}
	sections := map[string]bool{}
	for _, s := range settings() {
		byKey[s.key] = s
		parts := strings.Split(s.key, ".")
		for i := 1; i < len(parts); i++ {
			sections[strings.Join(parts[:i], ".")] = true
		}
	}
	var set []string
	var walk func(n *yaml.Node, prefix string) error
	walk = func(n *yaml.Node, prefix string) error {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil // a section with nothing under it sets nothing
		}
		if n.Kind != yaml.MappingNode {
			where := "the document"
			if prefix != "" {
				where = "key " + strings.TrimSuffix(prefix, ".")
			}
			return fmt.Errorf("line %d: %s must be a mapping of keys", n.Line, where)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := prefix + k.Value
			if renamed, ok := renamedKeys[key]; ok {
				key = renamed
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: key %s is set twice", k.Line, key)
			}
			seen[k.Value] = true
			switch s, ok := byKey[key]; {
			case ok:
				if err := s.decodeInto(c, val); err != nil {
					return err
				}
				set = append(set, key)
			case sections[key]:
				if err := walk(val, key+"."); err != nil {
					return err
				}
			default:
				return &unknownKeyError{line: k.Line, key: key}
			}
		}
		return nil
	}
	return set, walk(doc.Content[0], "")
}

// renamedKeys maps keys that earlier releases read to their names now, so
// that existing files keep loading.
var renamedKeys = map[string]string{
	"storage.compact_interval": "storage.expire_interval",
}

// settingFlags registers a flag per setting on fs (--storage.fsync) and
// returns the texts given, by setting key, for layers.flags. Each value is
// type-checked as it is parsed; validation waits for the merged
// configuration.
func settingFlags(fs *pflag.FlagSet) map[string]string {
	given := map[string]string{}
	def := defaultConfig()
	for _, s := range settings() {
		shown := scalar(s.get(&def))
		if str, ok := s.get(&def).(string); ok {
			shown = str // pflag quotes strings itself
		}
		f := fs.VarPF(&settingValue{s: s, given: given, def: shown}, s.flagName(), "",
			s.usage+" (env "+s.envName()+")")
		if s.typ == "bool" {
			f.NoOptDefVal = "true"
		}
	}
	return given
}

// settingValue is the pflag.Value of one setting's flag.
type settingValue struct {
	s     setting
	given map[string]string
	def   string // shown as the default in --help
}

func (v *settingValue) String() string { return v.def }

func (v *settingValue) Type() string { return v.s.typ }

func (v *settingValue) Set(text string) error {
	var probe config
	if err := v.s.parseScalar(&probe, text); err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return ke.err
		}
		return err
	}
	v.given[v.s.key] = text
	return nil
}

// write writes c to w as YAML, one key per line in the order of
// settings(), durations as Go duration strings: the effective
// configuration, which loads back.
func (c *config) write(w io.Writer) {
	section := ""
	for _, s := range settings() {
		name := s.key
		if sec, key, ok := strings.Cut(s.key, "."); ok {
			if sec != section {
				fmt.Fprintf(w, "%s:\n", sec)
				section = sec
			}
			name = "  " + key
		} else {
			section = ""
		}
		fmt.Fprintf(w, "%s: %s\n", name, scalar(s.get(c)))
	}
}

// scalar formats a config value as the file spells it.
func scalar(v any) string {
	switch x := v.(type) {
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
	case authKeys:
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
