package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/shard"
)

// TestFsckInspectReadOnly runs fsck and inspect on a read-only copy of a
// data directory written by a real store (several streams and shards,
// compressed and plain sealed segments, active ones) and checks that they
// succeed and change nothing: no file's content, size, mode or mtime, no
// directory's entries, and no new file, neither in the data directory nor
// in TMPDIR (not even one removed again: the directory's mtime would show it). Permission bits do not stop root, so the snapshot comparison
// is what proves it.
func TestFsckInspectReadOnly(t *testing.T) {
	src := writeMixedStore(t)
	dataDir := filepath.Join(t.TempDir(), "copy")
	copyTree(t, src, dataDir)
	chmodTree(t, dataDir, func(m fs.FileMode) fs.FileMode { return m &^ 0o222 })
	t.Cleanup(func() { chmodTree(t, dataDir, func(m fs.FileMode) fs.FileMode { return m | 0o200 }) })
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if os.Geteuid() == 0 {
		t.Log("running as root: permission bits do not stop writes; the snapshot comparison does the checking")
	}
	before := snapshotTree(t, dataDir)
	tmpBefore := snapshotTree(t, tmp) // its mtime shows a file made and removed again

	code, out, errOut := runCmd("fsck", "--json", dataDir)
	if code != fsckClean {
		t.Fatalf("fsck: exit %d, want %d\n%s%s", code, fsckClean, out, errOut)
	}
	var sum fsckSummary
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("fsck summary %q: %v", out, err)
	}
	if sum.Streams != 2 || sum.Shards != 3 || sum.Records != mixedRecords || sum.Problems != 0 {
		t.Fatalf("fsck summary %+v: want 2 streams, 3 shards, %d records, no problem", sum, mixedRecords)
	}
	if code, out, errOut := runCmd("fsck", dataDir); code != fsckClean {
		t.Fatalf("fsck (text): exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = runCmd("inspect", dataDir)
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s", code, errOut)
	}
	var compressed, sealedPlain, active int
	var dumpShard string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var sh inspectShard
		if err := json.Unmarshal(sc.Bytes(), &sh); err != nil {
			t.Fatalf("inspect line %q: %v", sc.Text(), err)
		}
		if sh.Type != "shard" {
			continue
		}
		for i, seg := range sh.Segments {
			switch {
			case seg.Error != "":
				t.Fatalf("inspect: %s/%s segment %d: %s", sh.Stream, sh.Shard, seg.Base, seg.Error)
			case seg.Compressed:
				compressed++
				dumpShard = sh.Stream + "/" + sh.Shard
			case i == len(sh.Segments)-1:
				active++
			default:
				sealedPlain++
			}
		}
	}
	if compressed == 0 || sealedPlain == 0 || active != 3 {
		t.Fatalf("the data directory has %d compressed, %d plain sealed and %d active segments; want some of each, one active per shard\n%s",
			compressed, sealedPlain, active, out)
	}
	code, out, errOut = runCmd("inspect", "--dump", dumpShard, dataDir)
	if n := strings.Count(out, "\n"); code != 0 || n == 0 {
		t.Fatalf("inspect --dump %s: exit %d, %d records\n%s", dumpShard, code, n, errOut)
	}

	if after := snapshotTree(t, dataDir); !equalSnapshots(t, before, after) {
		t.Fatal("fsck or inspect changed the data directory")
	}
	if after := snapshotTree(t, tmp); !equalSnapshots(t, tmpBefore, after) {
		t.Fatal("fsck or inspect made files in TMPDIR")
	}
}

// mixedRecords is how many records writeMixedStore writes.
const mixedRecords = 3 * 400

// writeMixedStore makes a data directory with two streams ("orders" of two
// shards, "Audit" of one) holding mixedRecords records of 1 KiB in 64 KiB
// segments: the first half of each shard's segments compressed with zstd,
// later ones sealed plain, and an active one; then closes it cleanly.
func writeMixedStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	opts := shard.DefaultOptions(dir)
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	opts.ExpireInterval = time.Hour // the test compresses when it wants to
	opts.Segment.MaxSegmentBytes = 64 << 10
	opts.Segment.Compression = segment.Zstd
	store, err := shard.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	orders, err := store.CreateStream(shard.StreamConfig{Name: "orders", ShardCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := store.CreateStream(shard.StreamConfig{Name: "Audit", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	put := func(st *shard.Stream, from, n int) {
		t.Helper()
		recs := make([]shard.Record, n)
		keys := make([]shard.HashKey, n)
		out := make([]shard.PutResult, n)
		for i := range recs {
			recs[i] = shard.Record{PartitionKey: []byte(fmt.Sprintf("pk-%d", from+i)),
				Data: []byte(fmt.Sprintf("%-1024d", from+i))}
			keys[i] = shard.HashPartitionKey(recs[i].PartitionKey)
		}
		st.Put(recs, keys, out)
		for _, r := range out {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	// Half, compressed; then the other half, left plain.
	put(orders, 0, 400)
	put(audit, 0, 200)
	store.Compress()
	put(orders, 400, 400)
	put(audit, 200, 200)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// chmodTree changes the permission bits of everything under root.
func chmodTree(t *testing.T, root string, mode func(fs.FileMode) fs.FileMode) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(path, mode(info.Mode().Perm()))
	})
	if err != nil {
		t.Fatalf("chmod %s: %v", root, err)
	}
}

// fileState is what snapshotTree records of one file or directory.
type fileState struct {
	Mode  fs.FileMode
	Size  int64
	MTime time.Time
	Sum   [sha256.Size]byte // content of a regular file
}

// snapshotTree records every file and directory under root.
func snapshotTree(t *testing.T, root string) map[string]fileState {
	t.Helper()
	snap := map[string]fileState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{Mode: info.Mode(), Size: info.Size(), MTime: info.ModTime()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			st.Sum = sha256.Sum256(b)
		}
		snap[path] = st
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	return snap
}

// equalSnapshots reports whether two snapshots agree, logging each
// difference.
func equalSnapshots(t *testing.T, before, after map[string]fileState) bool {
	t.Helper()
	same := true
	for path, b := range before {
		a, ok := after[path]
		switch {
		case !ok:
			t.Errorf("%s disappeared", path)
			same = false
		case a.Mode != b.Mode || a.Size != b.Size || !a.MTime.Equal(b.MTime) || a.Sum != b.Sum:
			t.Errorf("%s changed: %+v, was %+v", path, a, b)
			same = false
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s appeared", path)
			same = false
		}
	}
	return same
}
