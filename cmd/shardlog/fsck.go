package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
)

// Exit statuses of fsck, as fsck(8) has them.
const (
	fsckClean     = 0  // no damage found
	fsckRepaired  = 1  // damage found and repaired (--repair)
	fsckDamaged   = 4  // damage found and left as it is
	fsckOpFailure = 8  // the check itself could not run (unreadable directory, ...)
	fsckUsage     = 16 // bad arguments
)

// fsckProblem is one damage fsck found.
type fsckProblem struct {
	Stream   string `json:"stream"`
	Shard    string `json:"shard"`
	Path     string `json:"path"`
	Off      int64  `json:"off,omitempty"` // byte offset in Path
	Seq      uint64 `json:"seq"`           // the first seq not readable
	Problem  string `json:"problem"`
	Repaired bool   `json:"repaired,omitempty"`

	// corrupt marks records damaged between valid frames (or at the end of
	// a sealed segment): the daemon keeps the frames around them and reads
	// of them fail; cutting the file would lose the valid ones, so --repair
	// leaves them.
	corrupt bool
}

// runFsck is `shardlog fsck [--repair] [--json] DATA_DIR`: with the daemon
// stopped, it reads every segment of every shard, checking every frame's
// CRC and sequence, the zeros after the last frame of each file (a torn tail
// or a bit flip past the index leaves non-zero bytes there) and that each
// index matches its frames. Corrupt records between valid frames are each
// reported with their seqs, and the check goes on after them as readers do.
// It never writes to DATA_DIR unless --repair, which cuts a torn tail of an
// active segment at its last good frame as the daemon's recovery would (the
// cut bytes are kept as <base>.log.broken); it never cuts corrupt records
// that valid ones follow, which stay reported (exit 4).
func runFsck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardlog fsck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repair := fs.Bool("repair", false, "cut damaged active segments at their last good frame")
	asJSON := fs.Bool("json", false, "print each problem as a JSON line, then a summary line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return fsckClean
		}
		return fsckUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: shardlog fsck [--repair] [--json] DATA_DIR")
		return fsckUsage
	}
	rep, err := fsck(fs.Arg(0), *repair)
	if err != nil {
		fmt.Fprintf(stderr, "shardlog fsck: %v\n", err)
		return fsckOpFailure
	}
	repaired := 0
	for _, p := range rep.Problems {
		if p.Repaired {
			repaired++
		}
		if *asJSON {
			b, _ := json.Marshal(p)
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			fmt.Fprintf(stdout, "DAMAGE %s/%s %s off %d seq %d: %s", p.Stream, p.Shard, p.Path, p.Off, p.Seq, p.Problem)
			if p.Repaired {
				fmt.Fprint(stdout, " (repaired)")
			}
			fmt.Fprintln(stdout)
		}
	}
	if *asJSON {
		b, _ := json.Marshal(rep.fsckSummary)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprintf(stdout, "%d streams, %d shards, %d segments, %d records, %d bytes checked; %d problems\n",
			rep.Streams, rep.Shards, rep.Segments, rep.Records, rep.Bytes, len(rep.Problems))
	}
	switch {
	case len(rep.Problems) == 0:
		return fsckClean
	case repaired == len(rep.Problems):
		return fsckRepaired
	default:
		return fsckDamaged
	}
}

type fsckSummary struct {
	Streams  int   `json:"streams"`
	Shards   int   `json:"shards"`
	Segments int   `json:"segments"`
	Records  int64 `json:"records"`
	Bytes    int64 `json:"bytes"`
	Problems int   `json:"problems"`
}

type fsckReport struct {
	fsckSummary
	Problems []fsckProblem
}

// storeLayout is the data directory as fsck and inspect see it: streams by
// directory, each with its stream.json (only the fields these tools show)
// and its shard directories.
type storeStream struct {
	Dir  string
	Meta struct {
		Name           string `json:"name"`
		Mode           string `json:"mode"`
		RetentionHours int    `json:"retention_hours"`
		CreatedMs      int64  `json:"created_ms"`
		Shards         []struct {
			ID             string          `json:"id"`
			HashStart      json.RawMessage `json:"hash_start"`
			HashEnd        json.RawMessage `json:"hash_end"`
			Parent         string          `json:"parent,omitempty"`
			AdjacentParent string          `json:"adjacent_parent,omitempty"`
			ClosedMs       int64           `json:"closed_ms,omitempty"`
		} `json:"shards"`
	}
	Shards []string // shard directory names, sorted
}

// readLayout lists the streams of dataDir without changing anything.
func readLayout(dataDir string) ([]storeStream, error) {
	if _, err := os.Stat(filepath.Join(dataDir, "shardlog.meta")); err != nil {
		return nil, fmt.Errorf("%s is not a shardlog data directory: %w", dataDir, err)
	}
	dataDir = filepath.Join(dataDir, "streams")
	entries, err := os.ReadDir(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no stream was ever created
	}
	if err != nil {
		return nil, err
	}
	var out []storeStream
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "s_") {
			continue
		}
		st := storeStream{Dir: filepath.Join(dataDir, e.Name())}
		b, err := os.ReadFile(filepath.Join(st.Dir, "stream.json"))
		if err != nil {
			return nil, fmt.Errorf("stream directory %s: %w", st.Dir, err)
		}
		if err := json.Unmarshal(b, &st.Meta); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(st.Dir, "stream.json"), err)
		}
		shards, err := os.ReadDir(st.Dir)
		if err != nil {
			return nil, err
		}
		for _, sh := range shards {
			if sh.IsDir() && strings.HasPrefix(sh.Name(), "shardId-") {
				st.Shards = append(st.Shards, sh.Name())
			}
		}
		sort.Strings(st.Shards)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Meta.Name < out[j].Meta.Name })
	return out, nil
}

// segmentBases lists the bases of the .log files in dir, sorted, without
// the clean-up segment.List does.
func segmentBases(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []uint64
	for _, e := range entries {
		name := e.Name()
		if len(name) != 24 || !strings.HasSuffix(name, ".log") || !e.Type().IsRegular() {
			continue
		}
		base, err := strconv.ParseUint(name[:20], 10, 64)
		if err != nil {
			continue
		}
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// openReadOnly opens segment base of dir without writing to dir: the
// segment package opens a sealed segment's data read-only but may rewrite
// its index, so it is given a scratch directory holding a link to the data
// file and a copy of the index. The index copy is compared with the
// original afterwards by indexChanged. close releases both.
func openReadOnly(dir string, base uint64, opts segment.Options) (seg *segment.Segment, scratch string, err error) {
	scratch, err = os.MkdirTemp("", "shardlog-fsck-")
	if err != nil {
		return nil, "", err
	}
	logPath, _ := filepath.Abs(filepath.Join(dir, segment.Name(base)))
	if err := os.Symlink(logPath, filepath.Join(scratch, segment.Name(base))); err != nil {
		os.RemoveAll(scratch)
		return nil, "", err
	}
	if b, err := os.ReadFile(filepath.Join(dir, segment.IndexName(base))); err == nil {
		if err := os.WriteFile(filepath.Join(scratch, segment.IndexName(base)), b, 0o600); err != nil {
			os.RemoveAll(scratch)
			return nil, "", err
		}
	}
	seg, err = segment.Open(scratch, base, false, opts)
	if err != nil {
		os.RemoveAll(scratch)
		return nil, "", err
	}
	return seg, scratch, nil
}

// indexChanged reports whether opening rewrote the index in scratch: the
// original did not match the frames (the daemon would rebuild it).
func indexChanged(dir, scratch string, base uint64) bool {
	orig, err1 := os.ReadFile(filepath.Join(dir, segment.IndexName(base)))
	now, err2 := os.ReadFile(filepath.Join(scratch, segment.IndexName(base)))
	if err1 != nil || err2 != nil {
		return err1 != nil != (err2 != nil)
	}
	n := min(len(orig), len(now))
	if !bytes.Equal(orig[:n], now[:n]) {
		return true
	}
	// Sealing trims a pre-sized index: what is cut must be unused (zeros).
	return !isZeros(orig[n:]) || !isZeros(now[n:])
}

func isZeros(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fsck checks every segment under dataDir and, with repair, cuts damaged
// last segments of their shards.
func fsck(dataDir string, repair bool) (*fsckReport, error) {
	streams, err := readLayout(dataDir)
	if err != nil {
		return nil, err
	}
	opts := segment.DefaultOptions()
	opts.Logger = zerolog.Nop()
	rep := &fsckReport{}
	for _, st := range streams {
		rep.Streams++
		for _, shardID := range st.Shards {
			rep.Shards++
			dir := filepath.Join(st.Dir, shardID)
			bases, err := segmentBases(dir)
			if err != nil {
				return nil, err
			}
			for i, base := range bases {
				rep.Segments++
				last := i == len(bases)-1
				if last {
					if p, ok := checkUnfinishedRoll(dir, base, repair); ok {
						p.Stream, p.Shard = st.Meta.Name, shardID
						rep.Problems = append(rep.Problems, p)
						continue
					}
				}
				probs := checkSegment(dir, base, opts, rep)
				for j := range probs {
					probs[j].Stream, probs[j].Shard = st.Meta.Name, shardID
				}
				if repair && len(probs) > 0 && last {
					if err := repairSegment(dir, base, opts); err == nil {
						for j := range probs {
							probs[j].Repaired = !probs[j].corrupt
						}
					} else {
						probs[0].Problem += "; repair failed: " + err.Error()
					}
				}
				rep.Problems = append(rep.Problems, probs...)
			}
		}
	}
	rep.fsckSummary.Problems = len(rep.Problems)
	return rep, nil
}

// checkSegment reads every frame of one segment and returns its problems.
func checkSegment(dir string, base uint64, opts segment.Options, rep *fsckReport) []fsckProblem {
	path := filepath.Join(dir, segment.Name(base))
	seg, scratch, err := openReadOnly(dir, base, opts)
	if err != nil {
		return []fsckProblem{{Path: path, Seq: base, Problem: "cannot open: " + err.Error()}}
	}
	defer os.RemoveAll(scratch)
	defer seg.Close()
	var probs []fsckProblem
	next, end := base, seg.NextSeq()
	var recs []segment.Record
	for next < end {
		recs, err = seg.Read(next, 1000, 8<<20, recs[:0])
		var ce *segment.CorruptError
		if errors.As(err, &ce) && ce.SeqKnown && len(recs) == 0 {
			// Corruption between valid frames: report it and check on
			// from the first valid frame after it, as readers do.
			probs = append(probs, corruptProblem(path, ce))
			if ce.LastSeq == math.MaxUint64 {
				return probs
			}
			next = ce.LastSeq + 1
			continue
		}
		if err != nil {
			// The records before the bad frame are good: count them, so
			// that the report names the first unreadable seq.
			for _, r := range recs {
				if r.Seq == next {
					next++
					rep.Records++
				}
			}
			p := fsckProblem{Path: path, Seq: next, Problem: err.Error()}
			var ce *segment.CorruptError
			if errors.As(err, &ce) {
				p.Off, p.Problem = ce.Off, "corrupt frame: "+ce.Reason+"; records from this seq on are unreadable"
			}
			return append(probs, p)
		}
		if len(recs) == 0 {
			if next < end {
				return append(probs, fsckProblem{Path: path, Seq: next, Problem: "index or frames end before the segment's last seq"})
			}
			break
		}
		for _, r := range recs {
			// Positions may skip (a start after a crash resumes above the
			// reservation), never repeat or go back.
			if r.Seq < next {
				return append(probs, fsckProblem{Path: path, Seq: next, Problem: fmt.Sprintf("sequence out of order: found seq %d", r.Seq)})
			}
			next = r.Seq + 1
			rep.Records++
			rep.Bytes += int64(len(r.Data) + len(r.PartitionKey) + len(r.ExplicitHashKey))
		}
	}
	if !seg.Compressed() {
		if off, n, err := garbageAfter(path, seg.Size()); err != nil {
			probs = append(probs, fsckProblem{Path: path, Seq: next, Problem: "cannot read: " + err.Error()})
		} else if n > 0 {
			probs = append(probs, fsckProblem{Path: path, Off: off, Seq: next,
				Problem: fmt.Sprintf("torn or corrupt tail: %d non-zero bytes after the last valid frame (seq %d on is lost)", n, next)})
		}
	}
	if indexChanged(dir, scratch, base) {
		probs = append(probs, fsckProblem{Path: filepath.Join(dir, segment.IndexName(base)), Seq: base,
			Problem: "index does not match the frames (derived data: the daemon rebuilds it)"})
	}
	return probs
}

// corruptProblem describes records damaged on disk that the daemon keeps
// failing reads of, with the valid records around them kept.
func corruptProblem(path string, ce *segment.CorruptError) fsckProblem {
	what := fmt.Sprintf("seq %d through %d are unreadable; the valid records after them are kept", ce.Seq, ce.LastSeq)
	if ce.LastSeq == math.MaxUint64 {
		what = fmt.Sprintf("seq %d to the end of this sealed segment are unreadable", ce.Seq)
	}
	return fsckProblem{Path: path, Off: ce.Off, Seq: ce.Seq, corrupt: true,
		Problem: "corrupt records: " + ce.Reason + "; " + what + " (reads of them fail with InternalFailure; a reader goes on with AFTER_SEQUENCE_NUMBER)"}
}

// garbageAfter returns the offset and count of non-zero bytes in the file
// at or after off (an active segment is pre-sized with zeros; a sealed one
// ends at off).
func garbageAfter(path string, off int64) (int64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	first, n := int64(-1), int64(0)
	for pos := off; ; {
		k, err := f.ReadAt(buf, pos)
		for i, c := range buf[:k] {
			if c != 0 {
				if first < 0 {
					first = pos + int64(i)
				}
				n++
			}
		}
		pos += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return first, n, nil
}

// checkUnfinishedRoll reports a shard's last segment file when it is the
// empty leftover of a roll that a crash interrupted (segment.Unfinished),
// which older builds could leave and refuse to start on; with repair it
// removes it as the daemon would.
func checkUnfinishedRoll(dir string, base uint64, repair bool) (fsckProblem, bool) {
	unfinished, err := segment.Unfinished(dir, base)
	if err != nil || !unfinished {
		return fsckProblem{}, false
	}
	p := fsckProblem{Path: filepath.Join(dir, segment.Name(base)), Seq: base,
		Problem: "unfinished roll: the last segment file is empty or has no header (it holds no record; the daemon removes it)"}
	if repair {
		if err := segment.Remove(dir, base); err != nil {
			p.Problem += "; repair failed: " + err.Error()
		} else {
			p.Repaired = true
		}
	}
	return p, true
}

// repairSegment opens the segment for appending, which cuts it at its last
// good frame and keeps the cut bytes as .broken, then closes it.
func repairSegment(dir string, base uint64, opts segment.Options) error {
	seg, err := segment.Open(dir, base, true, opts)
	if err != nil {
		return err
	}
	return seg.Close()
}
