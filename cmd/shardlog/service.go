package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// This file holds what makes serve a well-behaved service: sd_notify
// readiness and watchdog, SIGHUP reload, and the process and storage
// metrics added to the server's /metrics.

// notify sends state to systemd's $NOTIFY_SOCKET, if there is one (it is
// unset outside a Type=notify unit, and then this does nothing).
func notify(log zerolog.Logger, state string) {
	if ok, err := sd.SdNotify(false, state); err != nil {
		log.Warn().Err(err).Msg("sd_notify")
	} else if ok {
		log.Debug().Str("state", strings.ReplaceAll(state, "\n", " ")).Msg("sd_notify")
	}
}

// startWatchdog pings systemd's watchdog at half of WatchdogSec while the
// server answers ready, if the unit asks for a watchdog; it returns a stop
// function.
func startWatchdog(log zerolog.Logger, srv *server.Server) func() {
	every, err := sd.SdWatchdogEnabled(false)
	if err != nil || every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if srv.Ready() {
					notify(log, "WATCHDOG=1")
				}
			}
		}
	}()
	log.Info().Dur("every", every/2).Msg("systemd watchdog on")
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// setLogLevel sets the process-wide log level (the root logger passes
// everything; see serveReloading). The name is validated.
func setLogLevel(name string) {
	level, _ := zerolog.ParseLevel(name)
	zerolog.SetGlobalLevel(level)
}

// testRecoveryPause sleeps for $SHARDLOG_TEST_RECOVERY_PAUSE (a Go
// duration) before recovery, so that a test can watch the daemon while it
// recovers. It is a test hook, not a setting.
func testRecoveryPause() {
	if d, err := time.ParseDuration(os.Getenv("SHARDLOG_TEST_RECOVERY_PAUSE")); err == nil && d > 0 {
		time.Sleep(d)
	}
}

// waitSignal blocks until SIGTERM or SIGINT (returned) or until the server
// stops on its own (nil and its error). On every SIGHUP meanwhile it calls
// reloadCert (the TLS pair, from the files in force since start; nil
// without TLS) and applies reload's configuration (nil: none).
func waitSignal(sigs, hups <-chan os.Signal, served <-chan error, reload func() (config, error), reloadCert func(), srv *server.Server, log zerolog.Logger) (os.Signal, error) {
	for {
		select {
		case sig := <-sigs:
			return sig, nil
		case err := <-served:
			return nil, err
		case <-hups:
			if reload == nil && reloadCert == nil {
				log.Warn().Msg("SIGHUP: nothing to reload")
				continue
			}
			notify(log, "RELOADING=1\nMONOTONIC_USEC="+monotonicUsec())
			if reloadCert != nil {
				reloadCert()
			}
			if reload != nil {
				applyReload(reload, srv, log)
			}
			notify(log, "READY=1")
		}
	}
}

// current is the configuration in force, for reload to compare with.
var current struct {
	sync.Mutex
	cfg *config
}

// applyReload rereads the configuration and applies the settings declared
// live (the log level, the limits emulator, auth, two account limits). It
// logs the keys that changed, and those that need a restart, which keep
// their running value; a bad file changes nothing.
func applyReload(reload func() (config, error), srv *server.Server, log zerolog.Logger) {
	next, err := reload()
	if err != nil {
		log.Error().Err(err).Msg("SIGHUP: configuration refused, nothing changed")
		return
	}
	current.Lock()
	defer current.Unlock()
	var changed, restart []string
	applied := next
	if current.cfg != nil {
		// Keys that need a restart keep their running value, so that a
		// second SIGHUP reports them again.
		applied = *current.cfg
		for _, s := range settings() {
			if reflect.DeepEqual(s.get(&next), s.get(current.cfg)) {
				continue
			}
			if s.live {
				changed = append(changed, s.key)
				s.copyTo(&applied, &next)
			} else {
				restart = append(restart, s.key)
			}
		}
	}
	setLogLevel(applied.Log.Level)
	srv.SetLimits(applied.serverLimits())
	if a, err := applied.Auth.serverAuth(); err == nil { // validated by reload
		srv.SetAuth(a)
	}
	current.cfg = &applied
	ev := log.WithLevel(zerolog.NoLevel).Strs("changed", changed)
	if len(restart) > 0 {
		ev = ev.Strs("need_restart", restart)
	}
	ev.Msg("SIGHUP: configuration reloaded")
}

// rememberConfig records the configuration serve started with.
func rememberConfig(c config) {
	current.Lock()
	current.cfg = &c
	current.Unlock()
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, for RELOADING=1.
func monotonicUsec() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return strconv.FormatInt(ts.Nano()/1000, 10)
}

// registerStoreMetrics adds the daemon's storage and recovery metrics to
// set: shardlog_recovery_seconds, shardlog_streams, shardlog_open_shards,
// and, from a walk of the data directory cached for 10 s,
// shardlog_storage_segments (.log files), shardlog_storage_bytes (their
// apparent size) and shardlog_storage_allocated_bytes (blocks on disk:
// active segments are pre-allocated).
func registerStoreMetrics(set *metrics.Set, store *shard.Store, dir string, recovery time.Duration) {
	secs := recovery.Seconds()
	set.NewGauge("shardlog_recovery_seconds", func() float64 { return secs })
	set.NewGauge("shardlog_streams", func() float64 { return float64(len(store.Streams())) })
	set.NewGauge("shardlog_open_shards", func() float64 { return float64(store.OpenShardCount()) })
	w := &dirWalk{dir: dir}
	set.NewGauge("shardlog_storage_segments", func() float64 { return float64(w.get().segments) })
	set.NewGauge("shardlog_storage_bytes", func() float64 { return float64(w.get().bytes) })
	set.NewGauge("shardlog_storage_allocated_bytes", func() float64 { return float64(w.get().allocated) })
}

// dirWalk caches a walk of the data directory.
type dirWalk struct {
	dir  string
	mu   sync.Mutex
	at   time.Time
	last dirUsage
}

type dirUsage struct{ segments, bytes, allocated int64 }

func (w *dirWalk) get() dirUsage {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.at) < 10*time.Second {
		return w.last
	}
	var u dirUsage
	_ = filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil // a stream deleted mid-walk is not an error
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasSuffix(path, ".log") {
			u.segments++
		}
		u.bytes += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			u.allocated += st.Blocks * 512
		}
		return nil
	})
	w.at, w.last = time.Now(), u
	return u
}
