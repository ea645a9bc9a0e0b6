// Command shardlog is a single-node, wire-compatible Amazon Kinesis Data
// Streams daemon, and the tools around it.
//
// Usage:
//
//	shardlog serve [--config FILE] [--listen ADDR] [--data-dir DIR] [--KEY=VALUE ...]
//	shardlog bench [WORKLOAD] [flags]
//	shardlog config check [FILE]
//	shardlog cert --out DIR
//	shardlog fsck [--repair] [--json] DATA_DIR
//	shardlog inspect [--dump STREAM/SHARD] DATA_DIR
//	shardlog health [--endpoint URL]
//	shardlog version
//	shardlog completion bash|zsh|fish|powershell
//
// `shardlog help` lists the commands, `shardlog help COMMAND` explains one
// with examples. serve opens the data directory, recovers every stream and
// serves the Kinesis API over HTTP/1.1 and HTTP/2 (h2c, or TLS) until
// SIGTERM or SIGINT, then shuts down gracefully and exits 0; a second
// signal exits at once with status 1. Its configuration comes from the
// in-code defaults (the values of the repository's config.yaml), overlaid
// by FILE, by SHARDLOG_<KEY> environment variables, then by flags; every
// key is declared once, in settings.go.
//
// This package is the only one that knows YAML, flags, signals and process
// exit; every other package takes a plain Options struct.
package main

import (
	"errors"
	"fmt"
	"github.com/shardlog/shardlog/cmd/shardlog/streamcli"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version and commit are set at build time with -ldflags "-X
// main.version=... -X main.commit=..." (see the Makefile). Without them
// `shardlog version` reports the module version and the VCS commit that
// the Go toolchain records in the build info.
var version, commit = "dev", ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitError ends a command with a given exit status; err, when not nil, is
// printed first. Any other error a command returns is a usage error
// (status 2).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// run executes the command line args and returns the process exit status:
// 0 on success, 1 on a runtime failure, 2 on a usage error, or the status
// a command defines (fsck's are fsck(8)'s).
func run(args []string, stdout, stderr io.Writer) int {
	root := rootCommand(stdout, stderr)
	root.SetArgs(legacyArgs(root, args, stderr))
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "shardlog: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "shardlog: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
	return 2
}

// rootCommand builds the command tree; every command is listed here.
func rootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "shardlog",
		Short: "A single-node, wire-compatible Amazon Kinesis Data Streams daemon",
		Long: `shardlog serves the Amazon Kinesis Data Streams API on one machine: unmodified
AWS SDKs and the AWS CLI create streams, put records and read them back, with
records kept in checksummed segment files that survive restarts.`,
		Example: `  shardlog serve                          # serve on 127.0.0.1:4567, data in ./data
  shardlog serve --config /etc/shardlog/config.yaml
  shardlog help serve                     # every setting, as a flag
  shardlog version`,
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// No Run: without a command, cobra lists the commands.
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n" + versionDetails())
	root.SetGlobalNormalizationFunc(normalizeFlag)
	root.AddCommand(
		serveCommand(),
		benchCommand(),
		configCommand(),
		certCommand(),
		fsckCommand(),
		inspectCommand(),
		healthCommand(),
		versionCommand(),
	)
	root.AddCommand(streamcli.Commands()...)
	return root
}

// normalizeFlag makes the old snake_case spellings of flags
// (--account_id, --emulator.error_probability) name their kebab-case flags.
func normalizeFlag(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
}

// legacyArgs rewrites the spellings of flags that the command line of
// earlier versions accepted and pflag does not, with a deprecation notice
// on stderr: one dash before a long flag (-data-dir, Go's flag package),
// and serve's flags without the command (shardlog --data-dir DIR). It
// only notes snake_case spellings, which normalizeFlag maps.
func legacyArgs(root *cobra.Command, args []string, stderr io.Writer) []string {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		serve, _, err := root.Find([]string{"serve"})
		if name := flagWord(args[0]); err == nil && name != "help" && name != "version" && name != "h" &&
			serve.Flags().Lookup(string(normalizeFlag(nil, name))) != nil {
			fmt.Fprintln(stderr, "shardlog: serving; name the command, as in: shardlog serve "+strings.Join(args, " "))
			args = append([]string{"serve"}, args...)
		}
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd.DisableFlagParsing {
		return args
	}
	out := make([]string, 0, len(args))
	for i, arg := range args {
		if arg == "--" {
			return append(out, args[i:]...)
		}
		name := flagWord(arg)
		if name == "" || cmd.Flags().Lookup(string(normalizeFlag(nil, name))) == nil {
			out = append(out, arg)
			continue
		}
		spelled, _, _ := strings.Cut(arg, "=")
		if want := "--" + string(normalizeFlag(nil, name)); spelled != want {
			fmt.Fprintf(stderr, "Flag %s has been deprecated, use %s\n", spelled, want)
		}
		if !strings.HasPrefix(arg, "--") {
			arg = "-" + arg
		}
		out = append(out, arg)
	}
	return out
}

// flagWord returns the name of the long flag arg spells (--name, --name=v,
// -name, -name=v), or "" when arg is no long flag: a value, a shorthand
// (-h), a negative number.
func flagWord(arg string) string {
	name, ok := strings.CutPrefix(arg, "--")
	if !ok {
		if name, ok = strings.CutPrefix(arg, "-"); !ok {
			return ""
		}
	}
	name, _, _ = strings.Cut(name, "=")
	if len(name) < 2 || name[0] < 'a' || name[0] > 'z' {
		return ""
	}
	return name
}
