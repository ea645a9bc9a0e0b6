package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/shard"
)

// shutdownTimeout bounds the graceful part of a shutdown: in-flight requests
// that have not finished by then are cut off and the store is closed anyway.
const shutdownTimeout = 15 * time.Second

// newLogger builds the root logger from the log section of a validated
// config, writing to w.
func newLogger(c logConfig, w io.Writer) zerolog.Logger {
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339Nano, NoColor: true}
	}
	// validate has checked the name, so ParseLevel cannot fail.
	level, _ := zerolog.ParseLevel(c.Level)
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// serve runs the daemon with cfg until SIGTERM or SIGINT, then shuts down
// gracefully and returns nil. A second signal during the shutdown exits the
// process at once with status 1. Logs go to logw.
func serve(cfg config, logw io.Writer) error { return serveReloading(cfg, nil, logw) }

// serveReloading is serve that applies reload's configuration on SIGHUP
// (reload may be nil) and rereads the TLS certificate and key then. The port is bound before
// recovery and answers /healthz, and 503 to everything else, until the
// store is open; then /readyz turns 200 and systemd hears READY=1.
func serveReloading(cfg config, reload func() (config, error), logw io.Writer) error {
	// The root logger passes everything; the global level filters, so that
	// SIGHUP can change it for every sub-logger at once.
	log := newLogger(cfg.Log, logw).Level(zerolog.TraceLevel)
	setLogLevel(cfg.Log.Level)
	rememberConfig(cfg)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)

	tlsConf, certs, err := cfg.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	standby := server.NewStandby(ln, tlsConf)
	adminStandby, err := listenAdmin(cfg, log)
	if err != nil {
		return errors.Join(err, standby.Close())
	}
	notify(log, "STATUS=recovering "+cfg.DataDir)
	testRecoveryPause()

	began := time.Now()
	store, err := shard.Open(cfg.storeOptions(log))
	if err != nil {
		err = fmt.Errorf("open data dir %s: %w", cfg.DataDir, err)
		if adminStandby != nil {
			err = errors.Join(err, adminStandby.Close())
		}
		return errors.Join(err, standby.Close())
	}
	recovered, took := len(store.Streams()), time.Since(began)

	opts := cfg.serverOptions(log)
	opts.TLS = tlsConf
	srv := server.New(store, opts)
	registerStoreMetrics(srv.Metrics(), store, cfg.DataDir, took)
	served := make(chan error, 1)
	// Hand the listener over before announcing readiness: a client that
	// connects after the start line must reach the server, not the standby.
	live := standby.Handoff()
	go func() { served <- srv.Serve(live) }()
	adminAddr := ""
	if adminStandby != nil {
		adminLive := adminStandby.Handoff()
		adminAddr = adminLive.Addr().String()
		go func() {
			if err := srv.ServeAdmin(adminLive); err != nil {
				log.Error().Err(err).Msg("admin listener stopped accepting")
			}
		}()
	}
	srv.SetReady(true)
	notify(log, "READY=1\nSTATUS=serving on "+ln.Addr().String())
	stopWatchdog := startWatchdog(log, srv)
	defer stopWatchdog()
	log.Info().
		Str("version", version).
		Str("listen", ln.Addr().String()).
		Bool("tls", tlsConf != nil).
		Str("auth", cfg.Auth.Mode).
		Str("admin", adminAddr).
		Str("data_dir", cfg.DataDir).
		Int("streams", recovered).
		Dur("took", took).
		Msg("shardlog started")

	var reloadCert func()
	if certs != nil {
		reloadCert = func() { reloadCertificate(cfg.TLS, certs, log) }
	}
	sig, serveErr := waitSignal(sigs, hups, served, reload, reloadCert, srv, log)
	if sig == nil {
		log.Error().Err(serveErr).Msg("server stopped accepting; shutting down")
		served = nil
	} else {
		log.Info().Str("signal", sig.String()).Msg("shutting down; a second signal exits at once")
		go func() {
			sig := <-sigs
			log.Warn().Str("signal", sig.String()).Msg("second signal: exiting at once")
			os.Exit(1)
		}()
	}
	srv.SetReady(false)
	notify(log, "STOPPING=1")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	began = time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("graceful shutdown incomplete")
	}
	if served != nil {
		select {
		case err := <-served:
			if err != nil {
				log.Warn().Err(err).Msg("serve")
			}
		case <-ctx.Done():
		}
	}
	if err := store.Close(); err != nil {
		return errors.Join(serveErr, fmt.Errorf("close store: %w", err))
	}
	log.Info().Dur("took", time.Since(began)).Msg("shardlog stopped")
	return serveErr
}

// listenAdmin binds the admin listener when cfg asks for one (adminAddr)
// and answers /healthz there, and 503 to the rest, until the store is open;
// nil when there is none. A non-loopback address is logged as a warning:
// whoever reaches it may use the API unsigned.
func listenAdmin(cfg config, log zerolog.Logger) (*server.Standby, error) {
	addr := cfg.adminAddr()
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (key admin.listen): %w", err)
	}
	if !loopback(addr) {
		log.Warn().Str("admin", addr).Msg("the admin listener is not on loopback: whoever reaches it reads /metrics and uses the API without signing")
	}
	return server.NewStandby(ln, nil), nil
}
