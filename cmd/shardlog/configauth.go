package main

import (
	"fmt"
	"os"

	"github.com/shardlog/shardlog/server"
)

// authConfig is the auth section: access control of the API.
type authConfig struct {
	Mode string          `yaml:"mode"` // none (a well-formed, unverified signature) or sigv4
	Keys []authKeyConfig `yaml:"keys"` // access keys accepted under sigv4
	// AcceptUnsigned, under mode none, accepts requests without a
	// well-formed Authorization header too (curl).
	AcceptUnsigned bool `yaml:"accept_unsigned"`
}

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

// validate checks the auth section, compiling every policy; errors name the
// key (auth.keys[1].policy).
func (a authConfig) validate(bad func(key string, val any, want string) error) error {
	if a.Mode != string(server.AuthNone) && a.Mode != string(server.AuthSigV4) {
		return bad("auth.mode", fmt.Sprintf("%q", a.Mode), "must be one of none, sigv4")
	}
	if a.Mode == string(server.AuthSigV4) && a.AcceptUnsigned {
		return bad("auth.accept_unsigned", "true", "only applies to auth.mode none")
	}
	if a.Mode == string(server.AuthSigV4) && len(a.Keys) == 0 {
		return bad("auth.keys", "[]", "auth.mode sigv4 needs at least one key")
	}
	_, err := a.serverAuth()
	return err
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
			return out, fmt.Errorf("key %s.access_key_id: must be set", key)
		case seen[k.AccessKeyID]:
			return out, fmt.Errorf("key %s.access_key_id: %s is listed twice", key, k.AccessKeyID)
		case k.SecretAccessKey == "":
			return out, fmt.Errorf("key %s.secret_access_key: must be set", key)
		case (k.Policy == "") == (k.PolicyFile == ""):
			return out, fmt.Errorf("key %s: set exactly one of policy and policy_file", key)
		}
		seen[k.AccessKeyID] = true
		doc, field := []byte(k.Policy), key+".policy"
		if k.PolicyFile != "" {
			field = key + ".policy_file"
			b, err := os.ReadFile(k.PolicyFile)
			if err != nil {
				return out, fmt.Errorf("key %s: %w", field, err)
			}
			doc = b
		}
		p, err := server.ParsePolicy(doc)
		if err != nil {
			return out, fmt.Errorf("key %s: %w", field, err)
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
