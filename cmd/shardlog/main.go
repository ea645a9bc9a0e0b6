// Command shardlog is a single-node, wire-compatible Amazon Kinesis Data
// Streams daemon.
//
// Usage:
//
//	shardlog [serve] [--config FILE] [--listen ADDR] [--data-dir DIR]
//	shardlog bench [--workload put|putone|get|e2e] [--suite] [--serve] [--peers] [flags]
//	shardlog version
//
// serve (the default) opens the data directory, recovers every stream and
// serves the Kinesis API on ADDR over HTTP/1.1 and HTTP/2 (h2c) until SIGTERM
// or SIGINT, then shuts down gracefully and exits 0; a second signal exits at
// once with status 1. Configuration comes from the in-code defaults (the same
// values as the repository's config.yaml), overlaid by FILE, overlaid by the
// flags. bench runs the load generator of package bench against an endpoint
// (or, with --serve, against a shardlog it starts). version prints the
// version the binary was built with.
//
// This package is the only one that knows YAML, flags, signals and process
// exit; every other package takes a plain Options struct.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...", from
// git describe (see the Makefile).
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the subcommand in args and returns the process exit status:
// 0 on success, 1 on a runtime failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, reload, err := parseServeReload(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "shardlog: %v\n", err)
			return 2
		}
		if err := serveReloading(cfg, reload, stderr); err != nil {
			fmt.Fprintf(stderr, "shardlog: %v\n", err)
			return 1
		}
		return 0
	case "bench":
		return runBench(args, stdout, stderr)
	case "config":
		return runConfig(args, stdout, stderr)
	case "cert":
		return runCert(args, stdout, stderr)
	case "fsck":
		return runFsck(args, stdout, stderr)
	case "inspect":
		return runInspect(args, stdout, stderr)
	case "version":
		if len(args) > 0 {
			fmt.Fprintln(stderr, "usage: shardlog version")
			return 2
		}
		fmt.Fprintf(stdout, "shardlog %s\n", version)
		return 0
	case "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "shardlog: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
}

// usage prints the command synopsis to w.
func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  shardlog [serve] [--config FILE] [--listen ADDR] [--data-dir DIR] [--KEY=VALUE ...]
  shardlog bench [--workload put|putone|get|e2e] [--suite] [--serve] [--peers] [flags]
  shardlog config check [FILE]
  shardlog cert --out DIR [--host 127.0.0.1,localhost]
  shardlog fsck [--json] DATA_DIR
  shardlog inspect [--dump STREAM/SHARD] DATA_DIR
  shardlog version
`)
}

// parseServe parses the serve flags and returns the effective config: the
// defaults, overlaid by the --config file, overlaid by the other flags that
// were given, validated.
func parseServe(args []string, stderr io.Writer) (config, error) {
	cfg, _, err := parseServeReload(args, stderr)
	return cfg, err
}

// parseServeReload is parseServe that also returns a function rereading
// the file and the environment under the same flags, for SIGHUP. Every
// config key is a flag too (--emulator.throughput, --log.level=debug), and
// SHARDLOG_<KEY> variables override the file (configenv.go).
func parseServeReload(args []string, stderr io.Writer) (config, func() (config, error), error) {
	fs := flag.NewFlagSet("shardlog serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML config `file` (default: built-in defaults, as in config.yaml)")
	listen := fs.String("listen", "", "listen `address` host:port (overrides key listen)")
	dataDir := fs.String("data-dir", "", "data `directory` (overrides key data_dir)")
	keys := keyFlags(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, nil, err
	}
	if fs.NArg() > 0 {
		return config{}, nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	flags := func(c *config) error {
		if err := keys(c); err != nil {
			return err
		}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "listen":
				c.Listen = *listen
			case "data-dir":
				c.DataDir = *dataDir
			}
		})
		if err := c.validate(); err != nil {
			return fmt.Errorf("flags: %w", err)
		}
		return nil
	}
	load := func() (config, error) { return loadLayers(*path, os.Environ(), flags) }
	cfg, err := load()
	return cfg, load, err
}
