package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serveFlags are serve's flags: the config file and one flag per setting.
type serveFlags struct {
	file  string
	given map[string]string // setting key -> text, of the setting flags given
}

// addServeFlags registers serve's flags on fs.
func addServeFlags(fs *pflag.FlagSet) *serveFlags {
	f := &serveFlags{}
	fs.StringVar(&f.file, "config", "", "YAML config file (default: the built-in defaults, as in config.yaml)")
	f.given = settingFlags(fs)
	return f
}

// layers returns where the configuration comes from, with environment env.
func (f *serveFlags) layers(env []string) layers {
	return layers{file: f.file, env: env, flags: f.given}
}

func serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Kinesis API from a data directory",
		Long: `serve opens the data directory, recovers every stream and serves the Kinesis
API over HTTP/1.1 and HTTP/2 (h2c, or TLS with tls.cert_file) until SIGTERM or
SIGINT, then shuts down gracefully; a second signal exits at once. SIGHUP
rereads the configuration and applies the log level, the limits emulator and
auth live.

Every setting of config.yaml is a flag and an environment variable: the key
storage.fsync is --storage.fsync and SHARDLOG_STORAGE_FSYNC. Flags override
the environment, which overrides the file, which overrides the defaults.`,
		Example: `  shardlog serve
  shardlog serve --listen 0.0.0.0:4567 --data-dir /var/lib/shardlog
  shardlog serve --config /etc/shardlog/config.yaml --log.level debug
  SHARDLOG_STORAGE_FSYNC=always shardlog serve --emulator.throughput`,
		Args: cobra.NoArgs,
	}
	flags := addServeFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		load := func() (config, error) { return flags.layers(os.Environ()).load() }
		cfg, err := load()
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if err := serveReloading(cfg, load, cmd.ErrOrStderr()); err != nil {
			return &exitError{code: 1, err: err}
		}
		return nil
	}
	return cmd
}

func configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a configuration file",
	}
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a configuration and print the effective one",
		Long: `check loads FILE (or only the defaults) with the SHARDLOG_* environment and
the flags given, as serve would, and prints the effective configuration as
YAML (secrets REDACTED). It exits 0 when the configuration is valid, 1 when
it is not, naming the key and where its value came from.`,
		Example: `  shardlog config check /etc/shardlog/config.yaml
  SHARDLOG_LOG_LEVEL=debug shardlog config check
  shardlog config check my.yaml --storage.fsync always`,
		Args: cobra.MaximumNArgs(1),
	}
	given := settingFlags(check.Flags())
	check.RunE = func(cmd *cobra.Command, args []string) error {
		l := layers{env: os.Environ(), flags: given}
		if len(args) == 1 {
			l.file = args[0]
		}
		cfg, err := l.load()
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		source := l.file
		if source == "" {
			source = "no file"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "# effective configuration: defaults, %s, SHARDLOG_* environment, flags\n", source)
		cfg.write(cmd.OutOrStdout())
		return nil
	}
	cmd.AddCommand(check)
	return cmd
}

// offlineCommand wraps an offline tool that parses its own arguments and
// returns its exit status (fsck, inspect).
func offlineCommand(cmd *cobra.Command, run func(args []string, stdout, stderr io.Writer) int) *cobra.Command {
	cmd.DisableFlagParsing = true
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if code := run(args, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
	return cmd
}

func fsckCommand() *cobra.Command {
	return offlineCommand(&cobra.Command{
		Use:   "fsck [--repair] [--json] DATA_DIR",
		Short: "Check every segment of a data directory (daemon stopped)",
		Long: `fsck reads every frame of every segment of a stopped daemon's data directory
and checks CRCs, sequence continuity, the bytes after the last frame (torn
tails) and the indexes. It writes nothing unless --repair, which cuts a torn
tail of an active segment as recovery would. It exits as fsck(8) does: 0
clean, 1 repaired, 4 damaged, 8 could not check.`,
		Example: `  shardlog fsck /var/lib/shardlog
  shardlog fsck --json ./data
  shardlog fsck --repair ./data`,
	}, runFsck)
}

func inspectCommand() *cobra.Command {
	return offlineCommand(&cobra.Command{
		Use:   "inspect [--dump STREAM/SHARD] DATA_DIR",
		Short: "Print the streams, shards and segments of a data directory",
		Long: `inspect prints one JSON line per stream and per shard of a data directory
(segments, sizes, sequence ranges), or with --dump every record of one shard.
It never writes to the directory.`,
		Example: `  shardlog inspect ./data
  shardlog inspect --dump orders/shardId-000000000000 ./data`,
	}, runInspect)
}

func healthCommand() *cobra.Command {
	var endpoint string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Probe a running daemon's readiness (for container health checks)",
		Long: `health asks a running shardlog for GET /readyz and exits 0 when it answers
200 (serving), 1 otherwise (recovering, stopped, unreachable). Without
--endpoint it probes this machine at the port of $SHARDLOG_LISTEN (default
4567), over TLS when $SHARDLOG_TLS_CERT_FILE is set, so that the same
command works as a container's health check without curl.`,
		Example: `  shardlog health
  shardlog health --endpoint http://127.0.0.1:4567`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url := endpoint
			if url == "" {
				url = localEndpoint(os.Getenv)
			}
			client := &http.Client{Timeout: timeout, Transport: &http.Transport{
				// A probe of this machine, whose certificate may be self-signed.
				TLSClientConfig: &tls.Config{InsecureSkipVerify: endpoint == ""},
			}}
			resp, err := client.Get(url + "/readyz")
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("health: %w", err)}
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return &exitError{code: 1, err: fmt.Errorf("health: %s/readyz answered %s", url, resp.Status)}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ready")
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "base URL of the daemon (default: this machine, port of $SHARDLOG_LISTEN)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// localEndpoint is the URL of the daemon that the environment configures,
// reached on loopback: http://127.0.0.1:4567 by default.
func localEndpoint(getenv func(string) string) string {
	port := "4567"
	if _, p, err := net.SplitHostPort(getenv("SHARDLOG_LISTEN")); err == nil && p != "" {
		port = p
	}
	scheme := "http"
	if getenv("SHARDLOG_TLS_CERT_FILE") != "" {
		scheme = "https"
	}
	return scheme + "://127.0.0.1:" + port
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and Go version of this binary",
		Example: "  shardlog version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			fmt.Fprint(cmd.OutOrStdout(), versionDetails())
		},
	}
}

// versionLine is "shardlog VERSION": the version set with -ldflags (make
// build), else the module version (go install ...@v1.2.3), else dev.
func versionLine() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "shardlog " + v
}

// versionDetails is the commit the binary was built from (-dirty when the
// work tree had changes), from the build info or else from -ldflags, and
// the Go version.
func versionDetails() string {
	rev, at, goVersion := commit, "", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = " (" + s.Value + ")"
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty {
			rev += "-dirty"
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("commit: %s%s\ngo:     %s %s/%s\n", rev, at, goVersion, runtime.GOOS, runtime.GOARCH)
}
