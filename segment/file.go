package segment

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/tysonmote/gommap"
)

// allocate grows f to size bytes with real blocks, so that writes through
// the mapping cannot hit ENOSPC (SIGBUS). Only file systems that cannot
// fallocate fall back to a sparse truncate.
func allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		err = f.Truncate(size)
	}
	if err != nil {
		return fmt.Errorf("fallocate %d bytes: %w", size, err)
	}
	return nil
}

// mapFile maps the first size bytes of f, shared, read-write or read-only.
func mapFile(f *os.File, size int64, writable bool) (gommap.MMap, error) {
	prot := gommap.PROT_READ
	if writable {
		prot |= gommap.PROT_WRITE
	}
	m, err := gommap.MapRegion(f.Fd(), 0, size, prot, gommap.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	return m, nil
}

// syncDir fsyncs a directory so that created, renamed or removed entries
// are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
