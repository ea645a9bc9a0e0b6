//go:build !crashpoint

package main

import "github.com/shardlog/shardlog/segment"

// crashPoints returns nil: only binaries built with -tags crashpoint (the
// crash-point tests build one) can kill themselves at a durable step.
func crashPoints() segment.FaultInjector { return nil }
