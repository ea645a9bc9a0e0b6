package segment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/index/durable"
)

// List returns the bases of the segments in dir, sorted. It removes stray
// *.tmp files (an interrupted Compress or metadata write) and index files
// without a data file, and logs and ignores files it does not know, such as
// the .broken forensics that recovery leaves. It does not open the segments.
func List(dir string, log zerolog.Logger) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments in %s: %w", dir, err)
	}
	logs := map[uint64]bool{}
	var idxs []uint64
	removed := false
	remove := func(name, why string) error {
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("list segments in %s: %w", dir, err)
		}
		log.Info().Str("path", p).Msg(why)
		removed = true
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := remove(name, "removed temporary file"); err != nil {
				return nil, err
			}
			continue
		}
		base, ext, ok := parseName(name)
		switch {
		case ok && e.Type().IsRegular() && ext == ".log":
			logs[base] = true
		case ok && e.Type().IsRegular() && ext == ".idx":
			idxs = append(idxs, base)
		default:
			log.Warn().Str("path", filepath.Join(dir, name)).Msg("ignoring unknown file in segment directory")
		}
	}
	for _, base := range idxs {
		if !logs[base] {
			if err := remove(IndexName(base), "removed index without data file"); err != nil {
				return nil, err
			}
		}
	}
	if removed {
		if err := durable.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("list segments: %w", err)
		}
	}
	bases := make([]uint64, 0, len(logs))
	for base := range logs {
		bases = append(bases, base)
	}
	slices.Sort(bases)
	return bases, nil
}

// Bases returns the bases of the data files in dir, sorted, and changes
// nothing: unlike List it leaves temporary files, index files without a
// data file and unknown files where they are. It does not open the
// segments. Read-only tools use it, and so does a shard that must not
// tidy a directory that may be loading concurrently.
func Bases(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments in %s: %w", dir, err)
	}
	var bases []uint64
	for _, e := range entries {
		if base, ext, ok := parseName(e.Name()); ok && ext == ".log" && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// Unfinished reports whether the data file of the segment with that base is
// the leftover of a roll that crashed before the segment was complete: a
// file shorter than a header, or one whose header is all zeros. Builds
// before segments were created under a temporary name could leave one
// under its final name. Create syncs the header before any frame is
// written, so such a file holds no record; the caller removes it when it is
// a shard's last segment (anywhere else it is damage, not a roll).
func Unfinished(dir string, base uint64) (bool, error) {
	f, err := os.Open(filepath.Join(dir, Name(base)))
	if err != nil {
		return false, fmt.Errorf("check segment %d in %s: %w", base, dir, err)
	}
	defer f.Close()
	var hb [headerSize]byte
	n, err := f.ReadAt(hb[:], 0)
	if n < headerSize {
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("check segment %d in %s: %w", base, dir, err)
		}
		return true, nil
	}
	return isZero(hb[:]), nil
}

// Remove unlinks the data and index files of the segment with that base in
// dir (either may be missing) and syncs the directory. The segment must not
// be open.
func Remove(dir string, base uint64) error {
	for _, name := range []string{Name(base), IndexName(base)} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove segment %d in %s: %w", base, dir, err)
		}
	}
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("remove segment %d: %w", base, err)
	}
	return nil
}

// Info is what a segment's header tells without opening the segment.
type Info struct {
	// Created is when the file was created, on the owner's clock: no record
	// in it arrived earlier.
	Created time.Time
	// LastMs is the newest record's arrival time, in Unix milliseconds, for
	// a sealed or compressed segment; 0 when the file does not record it (an
	// active segment, or one sealed by an older build).
	LastMs int64
}

// Stat reads the header of the segment with that base in dir: one open and
// a 64-byte read, no mapping, so that the store's expiry pass can look at
// idle shards without loading them.
func Stat(dir string, base uint64) (Info, error) {
	f, err := os.Open(filepath.Join(dir, Name(base)))
	if err != nil {
		return Info{}, fmt.Errorf("stat segment %d in %s: %w", base, dir, err)
	}
	defer f.Close()
	var hb [headerSize]byte
	if _, err := f.ReadAt(hb[:], 0); err != nil {
		return Info{}, fmt.Errorf("stat segment %d in %s: %w: %w", base, dir, ErrBadHeader, err)
	}
	h, err := parseHeader(hb[:], base)
	if err != nil {
		return Info{}, fmt.Errorf("stat segment %d in %s: %w", base, dir, err)
	}
	return Info{Created: h.created(), LastMs: h.lastMs}, nil
}

// parseName splits "<20 digits>.log" or ".idx" into base and extension.
func parseName(name string) (base uint64, ext string, ok bool) {
	ext = filepath.Ext(name)
	digits := strings.TrimSuffix(name, ext)
	if len(digits) != 20 || (ext != ".log" && ext != ".idx") {
		return 0, "", false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return base, ext, true
}
