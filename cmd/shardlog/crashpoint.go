//go:build crashpoint

package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/shardlog/shardlog/segment"
)

// crashPoints returns the injector of a crash-point test build, or nil when
// the environment asks for nothing. SHARDLOG_CRASH_TRACE names a file that
// gets one line "N op" for every durable step the storage reaches, in
// order; SHARDLOG_CRASH_AT=N makes the process SIGKILL itself just before
// step N, as a power cut or kill -9 at that instant would stop it. The
// crash-point sweep runs a workload once to count the steps, then once per
// step with a kill there, and checks every acknowledged record after each
// restart.
func crashPoints() segment.FaultInjector {
	trace, at := os.Getenv("SHARDLOG_CRASH_TRACE"), os.Getenv("SHARDLOG_CRASH_AT")
	if trace == "" && at == "" {
		return nil
	}
	k := &killer{}
	if at != "" {
		n, err := strconv.Atoi(at)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "SHARDLOG_CRASH_AT=%q: want a step number from 1\n", at)
			os.Exit(2)
		}
		k.at = n
	}
	if trace != "" {
		f, err := os.OpenFile(trace, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "SHARDLOG_CRASH_TRACE: %v\n", err)
			os.Exit(2)
		}
		k.trace = f
	}
	return k
}

// killer counts durable steps and kills the process at one of them.
type killer struct {
	mu    sync.Mutex
	n     int
	at    int
	trace *os.File
}

// Fault counts the step, writes it to the trace and kills the process at
// step k.at. It never returns an error: steps run as they would.
func (k *killer) Fault(op string) error {
	k.mu.Lock() // held through the kill: no other step runs past this one
	defer k.mu.Unlock()
	k.n++
	if k.trace != nil {
		fmt.Fprintf(k.trace, "%d %s\n", k.n, op)
	}
	if k.n == k.at {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	return nil
}
