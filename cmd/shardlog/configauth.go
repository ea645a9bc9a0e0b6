package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/shardlog/shardlog/server"
)

// authConfig is the auth section: access control of the API.
type authConfig struct {
	Mode string   // none (a well-formed, unverified signature) or sigv4
	Keys authKeys // access keys accepted under sigv4
	// AcceptUnsigned, under mode none, accepts requests without a
	// well-formed Authorization header too (curl).
	AcceptUnsigned bool
}

// authKeys is the list auth.keys. It decodes item by item, refusing
// unknown and repeated keys with the item's index (auth.keys[1].secret).
type authKeys []authKeyConfig

// authKeyConfig is one access key. Its secret is a server.Secret, which
// prints as REDACTED, so `shardlog config check` and logs never show it.
type authKeyConfig struct {
	AccessKeyID     string        `yaml:"access_key_id"`
	SecretAccessKey server.Secret `yaml:"secret_access_key"`
	SessionToken    server.Secret `yaml:"session_token"` // temporary credentials: requests must carry it
	User            string        `yaml:"user"`          // IAM user name in ARNs; default the access key id
	Policy          string        `yaml:"policy"`        // an IAM policy document (JSON)
	PolicyFile      string        `yaml:"policy_file"`   // or a file holding one
}

// UnmarshalYAML decodes a sequence of key mappings.
func (ks *authKeys) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return &keyError{key: "auth.keys", line: n.Line, err: errors.New("must be a list of keys")}
	}
	known := map[string]bool{}
	t := reflect.TypeOf(authKeyConfig{})
	for i := 0; i < t.NumField(); i++ {
		known[t.Field(i).Tag.Get("yaml")] = true
	}
	out := make(authKeys, 0, len(n.Content))
	for i, item := range n.Content {
		prefix := fmt.Sprintf("auth.keys[%d]", i)
		if item.Kind != yaml.MappingNode {
			return &keyError{key: prefix, line: item.Line, err: errors.New("must be a mapping of keys")}
		}
		seen := map[string]bool{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k := item.Content[j]
			switch {
			case !known[k.Value]:
				return &unknownKeyError{line: k.Line, key: prefix + "." + k.Value}
			case seen[k.Value]:
				return &keyError{key: prefix + "." + k.Value, line: k.Line, err: errors.New("is set twice")}
			}
			seen[k.Value] = true
		}
		var k authKeyConfig
		if err := item.Decode(&k); err != nil {
			return &keyError{key: prefix, line: item.Line, err: errors.New(yamlReason(err))}
		}
		out = append(out, k)
	}
	*ks = out
	return nil
}

// serverAuth converts the section to server.Auth, reading policy files and
// compiling policies.
func (a authConfig) serverAuth() (server.Auth, error) {
	out := server.Auth{Mode: server.AuthMode(a.Mode), AcceptUnsigned: a.AcceptUnsigned}
	seen := map[string]bool{}
	for i, k := range a.Keys {
		key := fmt.Sprintf("auth.keys[%d]", i)
		switch {
		case k.AccessKeyID == "":
			return out, &keyError{key: key + ".access_key_id", err: errors.New("must be set")}
		case seen[k.AccessKeyID]:
			return out, &keyError{key: key + ".access_key_id", err: fmt.Errorf("%s is listed twice", k.AccessKeyID)}
		case k.SecretAccessKey == "":
			return out, &keyError{key: key + ".secret_access_key", err: errors.New("must be set")}
		case (k.Policy == "") == (k.PolicyFile == ""):
			return out, &keyError{key: key, err: errors.New("set exactly one of policy and policy_file")}
		}
		seen[k.AccessKeyID] = true
		doc, field := []byte(k.Policy), key+".policy"
		if k.PolicyFile != "" {
			field = key + ".policy_file"
			b, err := os.ReadFile(k.PolicyFile)
			if err != nil {
				return out, &keyError{key: field, err: err}
			}
			doc = b
		}
		p, err := server.ParsePolicy(doc)
		if err != nil {
			return out, &keyError{key: field, err: err}
		}
		out.Keys = append(out.Keys, server.AuthKey{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken, User: k.User, Policy: p})
	}
	return out, nil
}

// checkSecretsPrivate refuses a config file that holds secret access keys
// and that every user of the machine may read.
func (c *config) checkSecretsPrivate(path string) error {
	if len(c.Auth.Keys) == 0 {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		return fmt.Errorf("config %s: holds auth.keys secrets but is readable by every user (mode %04o); chmod o-r %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
