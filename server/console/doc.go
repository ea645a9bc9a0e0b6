// Package console serves the web console: a static page, embedded so the
// binary works offline, whose script calls the Kinesis API like any other
// client, and three read-only endpoints under /console/api/ for what the
// API has no cheap call for (live stream statistics, segment files, a
// shard's tail as server-sent events). See console.go.
//
// It reads the store (package shard) and knows nothing of the wire
// format, the operations or the listeners: the host decides where and to
// whom the console is served.
package console
