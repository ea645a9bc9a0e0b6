// Package durable holds the two file-system steps every storage package
// needs to be safe against crashes and full disks: giving a file real
// blocks before it is written through a mapping (Allocate), and making
// created, renamed or removed directory entries survive power loss
// (SyncDir). It imports no other shardlog package, so index, segment and
// shard can all use it.
package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Allocate grows f to size bytes with real blocks (fallocate), so that
// writes through a shared mapping of it cannot hit ENOSPC, which would be a
// SIGBUS, not an error: a full disk is reported here instead. Only file
// systems that cannot fallocate fall back to a sparse truncate. A file
// already larger keeps its size.
func Allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		err = f.Truncate(size)
	}
	if err != nil {
		return fmt.Errorf("fallocate %d bytes: %w", size, err)
	}
	return nil
}

// SyncDir fsyncs a directory, so that the entries created, renamed or
// removed in it survive power loss.
func SyncDir(dir string) error { return syncPath(dir, "directory") }

// SyncFile fsyncs the file at path, which the caller does not hold open.
func SyncFile(path string) error { return syncPath(path, "file") }

// syncPath opens path read-only and fsyncs it; what names it in errors.
func syncPath(path, what string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", what, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s %s: %w", what, path, err)
	}
	return nil
}
