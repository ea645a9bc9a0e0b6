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
func serve(cfg config, logw io.Writer) error {
	log := newLogger(cfg.Log, logw)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	began := time.Now()
	store, err := shard.Open(cfg.storeOptions(log))
	if err != nil {
		return fmt.Errorf("open data dir %s: %w", cfg.DataDir, err)
	}
	recovered, took := len(store.Streams()), time.Since(began)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen: %w", err), store.Close())
	}
	srv := server.New(store, cfg.serverOptions(log))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info().
		Str("version", version).
		Str("listen", ln.Addr().String()).
		Str("data_dir", cfg.DataDir).
		Int("streams", recovered).
		Dur("took", took).
		Msg("shardlog started")

	var serveErr error
	select {
	case sig := <-sigs:
		log.Info().Str("signal", sig.String()).Msg("shutting down; a second signal exits at once")
		go func() {
			sig := <-sigs
			log.Warn().Str("signal", sig.String()).Msg("second signal: exiting at once")
			os.Exit(1)
		}()
	case serveErr = <-served:
		log.Error().Err(serveErr).Msg("server stopped accepting; shutting down")
		served = nil
	}
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
