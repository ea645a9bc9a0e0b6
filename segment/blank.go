package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardlog/shardlog/index"
	"github.com/shardlog/shardlog/index/durable"
)

// Blank is an empty segment made in steps, so that many can share their
// syncs, where Create syncs each segment on its own (three journal
// commits). The owner drafts each blank (Draft), makes the drafts durable
// (SyncDraft, or one syncfs of their filesystem), names them (Publish),
// and makes the names durable (SyncName, or a syncfs) before anything is
// written to them. A crash at any step leaves each blank either absent or
// complete under its name, as Create does: a draft's data file has the
// temporary name List removes. The blank's directory must not be listed
// or written by anyone else while the owner holds a step; between steps a
// List may remove a draft, and Publish then reports it gone.
type Blank struct {
	Dir     string
	Base    uint64
	Reserve uint64 // the first reservation, as Create takes it
}

func (b Blank) path() string    { return filepath.Join(b.Dir, Name(b.Base)) }
func (b Blank) tmpPath() string { return b.path() + ".tmp" }
func (b Blank) idxPath() string { return filepath.Join(b.Dir, IndexName(b.Base)) }

// Draft writes the blank's data file under its temporary name, with the
// first InitialBytes of blocks and its header, and an empty index file,
// replacing any leftover one with its base (Open would drop a stale
// one's entries with a warning); nothing is synced. A taken segment name
// fails it before anything is written; on any other error it removes what
// it wrote.
func (b Blank) Draft(opts Options) (err error) {
	opts = opts.withDefaults()
	if err := newSegment(b.Dir, b.Base, opts).nameFree(); err != nil {
		return fmt.Errorf("draft segment %s: %w", b.path(), err)
	}
	defer func() {
		if err != nil {
			_ = b.Discard()
			err = fmt.Errorf("draft segment %s: %w", b.path(), err)
		}
	}()
	if err := writeDraft(b, opts); err != nil {
		return err
	}
	if err := os.Remove(b.idxPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale index: %w", err)
	}
	x, err := index.Open(b.idxPath(), opts.indexCapacity())
	if err != nil {
		return err
	}
	return x.Close()
}

// writeDraft writes the data file of blank b under its temporary name:
// InitialBytes of blocks and the header, as build does, without a sync.
func writeDraft(b Blank, opts Options) (err error) {
	if err := opts.fault("create"); err != nil {
		return err
	}
	f, err := os.OpenFile(b.tmpPath(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
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

// SyncDraft fsyncs the drafted data file. A draft that is gone (a List
// removed it) reports fs.ErrNotExist.
func (b Blank) SyncDraft() error { return durable.SyncFile(b.tmpPath()) }

// Publish renames the durable draft to the segment's name. It returns
// false, having changed nothing, when the draft is gone (a List of the
// directory removed it).
func (b Blank) Publish(opts Options) (bool, error) {
	if err := opts.fault("create-rename"); err != nil {
		return false, fmt.Errorf("publish segment %s: %w", b.path(), err)
	}
	if err := os.Rename(b.tmpPath(), b.path()); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("publish segment %s: %w", b.path(), err)
	}
	return true, nil
}

// SyncName fsyncs the blank's directory, making its published name
// durable.
func (b Blank) SyncName() error {
	if err := durable.SyncDir(b.Dir); err != nil {
		return fmt.Errorf("publish segment %s: %w", b.path(), err)
	}
	return nil
}

// Discard removes a draft's files, or a published blank's whose name could
// not be made durable, and syncs nothing: a crash that keeps a name
// unsynced leaves a complete empty segment, or a draft List removes.
func (b Blank) Discard() error {
	var errs []error
	for _, path := range []string{b.tmpPath(), b.path(), b.idxPath()} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
