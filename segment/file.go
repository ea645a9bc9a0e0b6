package segment

import (
	"fmt"
	"os"

	"github.com/tysonmote/gommap"
)

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
