package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/shard"
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
// Without --repair it opens nothing for writing and creates no file,
// anywhere. --repair cuts a torn tail of an
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

// fsck checks every segment under dataDir and, with repair, cuts damaged
// last segments of their shards. Without repair it writes nothing: the
// layout comes from shard.Walk and each segment is checked by
// segment.Check, both read-only.
func fsck(dataDir string, repair bool) (*fsckReport, error) {
	streams, err := shard.Walk(dataDir)
	if err != nil {
		return nil, err
	}
	opts := segment.DefaultOptions()
	opts.Logger = zerolog.Nop()
	rep := &fsckReport{}
	for _, st := range streams {
		rep.Streams++
		for _, sh := range st.Shards {
			rep.Shards++
			var end uint64 // of the last segment that was not an orphan
			for i, base := range sh.Segments {
				rep.Segments++
				last := i == len(sh.Segments)-1
				if last {
					if p, ok := checkUnfinishedRoll(sh.Dir, base, repair); ok {
						p.Stream, p.Shard = st.Name, sh.ID
						rep.Problems = append(rep.Problems, p)
						continue
					}
				}
				res := segment.Check(sh.Dir, base, opts)
				if i > 0 && res.Records == 0 && len(res.Damage) == 0 && base < end {
					p := checkOrphan(sh.Dir, base, end, repair)
					p.Stream, p.Shard = st.Name, sh.ID
					rep.Problems = append(rep.Problems, p)
					continue
				}
				end = res.NextSeq
				rep.Records += res.Records
				rep.Bytes += res.Bytes
				probs := make([]fsckProblem, len(res.Damage))
				for j, d := range res.Damage {
					probs[j] = describeDamage(d)
					probs[j].Stream, probs[j].Shard = st.Name, sh.ID
				}
				if repair && len(probs) > 0 && last {
					if err := repairSegment(sh.Dir, base, opts); err == nil {
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

// describeDamage words one damage segment.Check found for the report.
func describeDamage(d segment.Damage) fsckProblem {
	p := fsckProblem{Path: d.Path, Off: d.Off, Seq: d.Seq}
	switch d.Kind {
	case segment.DamageOpen:
		p.Problem = "cannot open: " + d.Err.Error()
	case segment.DamageCorrupt:
		// Records damaged on disk that the daemon keeps failing reads of,
		// with the valid records around them kept.
		what := fmt.Sprintf("seq %d through %d are unreadable; the valid records after them are kept", d.Seq, d.LastSeq)
		if d.LastSeq == math.MaxUint64 {
			what = fmt.Sprintf("seq %d to the end of this sealed segment are unreadable", d.Seq)
		}
		p.corrupt = true
		p.Problem = "corrupt records: " + d.Reason + "; " + what + " (reads of them fail with InternalFailure; a reader goes on with AFTER_SEQUENCE_NUMBER)"
	case segment.DamageFrame:
		p.Problem = "corrupt frame: " + d.Reason + "; records from this seq on are unreadable"
	case segment.DamageRead:
		p.Problem = d.Err.Error()
	case segment.DamageShort:
		p.Problem = "index or frames end before the segment's last seq"
	case segment.DamageOrder:
		p.Problem = fmt.Sprintf("sequence out of order: found seq %d", d.Found)
	case segment.DamageTail:
		p.Problem = fmt.Sprintf("torn or corrupt tail: %d non-zero bytes after the last valid frame (seq %d on is lost)", d.Bytes, d.Seq)
	case segment.DamageIndex:
		p.Problem = "index does not match the frames (derived data: the daemon rebuilds it)"
	default:
		p.Problem = "damage of unknown kind " + strconv.Itoa(int(d.Kind))
	}
	return p
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

// checkOrphan reports an empty segment whose base lies below end, where
// the segment before it ends: the leftover of a race in older builds'
// background preparation of the next segment, which hides the records the
// segment before it holds above its base. With repair it removes it, as
// the daemon does when it loads the shard.
func checkOrphan(dir string, base, end uint64, repair bool) fsckProblem {
	p := fsckProblem{Path: filepath.Join(dir, segment.Name(base)), Seq: base,
		Problem: fmt.Sprintf("orphan segment: empty, and its base lies inside the segment before it, which ends at seq %d (it hides that segment's records from seq %d on; the daemon removes it)", end, base)}
	if repair {
		if err := segment.Remove(dir, base); err != nil {
			p.Problem += "; repair failed: " + err.Error()
		} else {
			p.Repaired = true
		}
	}
	return p
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
