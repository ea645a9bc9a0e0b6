package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/shardlog/shardlog/segment"
)

// StreamLayout is one stream of a data directory as Walk finds it on disk:
// what its stream.json says and which shard directories it has.
type StreamLayout struct {
	Name           string
	Dir            string // the stream's directory
	Mode           StreamMode
	RetentionHours int
	CreatedMs      int64
	Shards         []ShardLayout // its shard directories, sorted by id
}

// ShardLayout is one shard directory of a stream and what the stream's
// metadata says of it.
type ShardLayout struct {
	ID  string
	Dir string
	// Listed is false for a directory stream.json does not list: the
	// leftover of a reshard interrupted before its metadata was written,
	// which Open removes. The fields below are then zero.
	Listed         bool
	HashRange      HashRange
	Parent         string
	AdjacentParent string
	ClosedMs       int64 // when resharding closed it; 0 while open
	// Segments are the bases of its segment files, oldest first; the last
	// is the active one while the shard is open.
	Segments []uint64
}

// Walk reads the layout of the data directory dir, with the file names and
// metadata schema the Store uses, and changes nothing: it opens no file for
// writing, removes no leftover of an interrupted create, delete or reshard
// (it skips them, as Open would remove them) and tidies no segment
// directory. It is safe on a data directory a Store has open, though what
// it reads may then be out of date at once. Streams are sorted by name. A
// directory without shardlog.meta is not a data directory; metadata of
// another format version is refused with ErrFormat.
func Walk(dir string) ([]StreamLayout, error) {
	var meta storeMeta
	if err := readJSON(filepath.Join(dir, storeMetaFile), &meta); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a shardlog data directory: %w", dir, err)
		}
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	if meta.Version != metaVersion {
		return nil, fmt.Errorf("walk %s: format version %d, this build reads %d: %w", dir, meta.Version, metaVersion, ErrFormat)
	}
	root := filepath.Join(dir, streamsDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no stream was ever created
	}
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	var out []StreamLayout
	for _, e := range entries {
		if !e.IsDir() || leftover(e.Name()) {
			continue
		}
		st, err := walkStream(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// leftover reports whether a name in the streams directory is that of a
// stream being created or deleted when a crash interrupted it.
func leftover(name string) bool {
	return strings.HasSuffix(name, tmpSuffix) || strings.HasSuffix(name, deleteSuffix)
}

// walkStream reads one stream directory for Walk.
func walkStream(dir string) (StreamLayout, error) {
	var m streamMeta
	if err := readJSON(filepath.Join(dir, streamFile), &m); err != nil {
		return StreamLayout{}, fmt.Errorf("walk stream %s: %w", dir, err)
	}
	if m.Version != metaVersion {
		return StreamLayout{}, fmt.Errorf("walk stream %s: format version %d, this build reads %d: %w",
			dir, m.Version, metaVersion, ErrFormat)
	}
	st := StreamLayout{Name: m.Name, Dir: dir, Mode: m.Mode, RetentionHours: m.RetentionHours, CreatedMs: m.CreatedMs}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return StreamLayout{}, fmt.Errorf("walk stream %s: %w", m.Name, err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), shardDirPrefix) {
			continue
		}
		sh := ShardLayout{ID: e.Name(), Dir: filepath.Join(dir, e.Name())}
		for _, sm := range m.Shards {
			if sm.ID == sh.ID {
				sh.Listed, sh.HashRange = true, HashRange{Start: sm.HashStart.Key, End: sm.HashEnd.Key}
				sh.Parent, sh.AdjacentParent, sh.ClosedMs = sm.Parent, sm.AdjacentParent, sm.ClosedMs
			}
		}
		if sh.Segments, err = segment.Bases(sh.Dir); err != nil {
			return StreamLayout{}, fmt.Errorf("walk stream %s: %w", m.Name, err)
		}
		st.Shards = append(st.Shards, sh)
	}
	sort.Slice(st.Shards, func(i, j int) bool { return st.Shards[i].ID < st.Shards[j].ID })
	return st, nil
}
