package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardlog/shardlog/index"
	"github.com/shardlog/shardlog/index/durable"
)

// Blank names an empty segment for CreateBlanks to create: the directory,
// the base and the first reservation, as Create takes them.
type Blank struct {
	Dir     string
	Base    uint64
	Reserve uint64
}

// CreateBlanks creates the data files of empty segments as Create would,
// with the same guarantee (a crash leaves each either absent or complete
// under its name), but many at once and without opening them: each file is
// allocated and gets its header under a temporary name; syncAll makes them
// all durable; each is renamed to its segment's name; and syncAll makes
// the names durable. syncAll must sync every file and directory involved,
// as one syncfs(2) of their filesystem does: one journal commit for the
// batch, where Create costs three per segment. A nil syncAll syncs each
// file and each directory instead. Each blank also gets an empty index
// file, replacing any leftover one with its base, as Create's does: it
// holds derived data and is not synced, and List removes it if the data
// file never got its name. A taken name fails the batch before anything
// is written. On an error no file of a blank not yet renamed is left;
// blanks renamed before it are complete segments and stay.
func CreateBlanks(blanks []Blank, opts Options, syncAll func() error) (err error) {
	opts = opts.withDefaults()
	for _, b := range blanks {
		if err := newSegment(b.Dir, b.Base, opts).nameFree(); err != nil {
			return fmt.Errorf("create blank segment %d in %s: %w", b.Base, b.Dir, err)
		}
	}
	// The files of blanks not renamed yet, removed on an error.
	var tmps, idxs []string
	defer func() {
		if err != nil {
			for _, path := range append(tmps, idxs...) {
				if path != "" {
					_ = os.Remove(path)
				}
			}
		}
	}()
	for _, b := range blanks {
		tmp := filepath.Join(b.Dir, Name(b.Base)) + ".tmp"
		tmps = append(tmps, tmp)
		if err := writeBlank(tmp, b, opts); err != nil {
			return fmt.Errorf("create blank segment %s: %w", tmp, err)
		}
		idx := filepath.Join(b.Dir, IndexName(b.Base))
		idxs = append(idxs, idx)
		if err := newIndex(idx, opts); err != nil {
			return fmt.Errorf("create blank segment %s: %w", tmp, err)
		}
	}
	if err := opts.fault("create-fsync"); err != nil {
		return fmt.Errorf("create blank segments: %w", err)
	}
	if err := syncBatch(syncAll, tmps, nil); err != nil {
		return fmt.Errorf("create blank segments: %w", err)
	}
	dirs := make([]string, 0, len(blanks))
	for i, b := range blanks {
		if err := opts.fault("create-rename"); err != nil {
			return fmt.Errorf("create blank segments: %w", err)
		}
		if err := os.Rename(tmps[i], filepath.Join(b.Dir, Name(b.Base))); err != nil {
			return fmt.Errorf("create blank segments: %w", err)
		}
		tmps[i], idxs[i] = "", "" // a complete segment now
		dirs = append(dirs, b.Dir)
	}
	if err := opts.fault("create-dirsync"); err != nil {
		return fmt.Errorf("create blank segments: %w", err)
	}
	if err := syncBatch(syncAll, nil, dirs); err != nil {
		return fmt.Errorf("create blank segments: %w", err)
	}
	return nil
}

// writeBlank writes the data file of blank b at path: InitialBytes of
// blocks and the header, as build does, without a sync.
func writeBlank(path string, b Blank, opts Options) (err error) {
	if err := opts.fault("create"); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := opts.fault("create-allocate"); err != nil {
		return err
	}
	if err := durable.Allocate(f, min(opts.InitialBytes, opts.MaxSegmentBytes)); err != nil {
		return err
	}
	var hb [headerSize]byte
	h := header{base: b.Base, createdNs: opts.Now().UnixNano(), nextSeq: max(b.Reserve, b.Base)}
	h.put(hb[:])
	if _, err := f.WriteAt(hb[:], 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

// newIndex replaces any leftover index file at path with an empty one,
// allocated as Open would allocate it, so that the segment's first Open
// (on the first append to its shard) finds it ready: creating the file
// was most of the cost of that Open.
func newIndex(path string, opts Options) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale index: %w", err)
	}
	x, err := index.Open(path, opts.indexCapacity())
	if err != nil {
		return err
	}
	return x.Close()
}

// syncBatch runs syncAll, or without it syncs each file and directory.
func syncBatch(syncAll func() error, files, dirs []string) error {
	if syncAll != nil {
		return syncAll()
	}
	for _, path := range files {
		if err := syncFile(path); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		if !seen[dir] {
			seen[dir] = true
			if err := durable.SyncDir(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}
