package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/segment"
	"github.com/shardlog/shardlog/shard"
)

// inspectStream is the JSON line inspect prints per stream.
type inspectStream struct {
	Type           string `json:"type"` // "stream"
	Stream         string `json:"stream"`
	Dir            string `json:"dir"`
	Mode           string `json:"mode"`
	RetentionHours int    `json:"retention_hours"`
	CreatedMs      int64  `json:"created_ms"`
	Shards         int    `json:"shards"`
	Records        int64  `json:"records"`
	Bytes          int64  `json:"bytes"` // file bytes of its segments
}

// inspectShard is the JSON line inspect prints per shard.
type inspectShard struct {
	Type           string           `json:"type"` // "shard"
	Stream         string           `json:"stream"`
	Shard          string           `json:"shard"`
	HashStart      string           `json:"hash_start,omitempty"` // decimal, as stream.json and the API have it
	HashEnd        string           `json:"hash_end,omitempty"`
	Parent         string           `json:"parent,omitempty"`
	AdjacentParent string           `json:"adjacent_parent,omitempty"`
	Closed         bool             `json:"closed"`
	FirstSeq       *uint64          `json:"first_seq,omitempty"` // seq positions within the shard
	NextSeq        *uint64          `json:"next_seq,omitempty"`
	Records        int64            `json:"records"`
	Bytes          int64            `json:"bytes"`
	Segments       []inspectSegment `json:"segments"`
}

type inspectSegment struct {
	Base       uint64 `json:"base"`
	NextSeq    uint64 `json:"next_seq"`
	Records    uint64 `json:"records"`
	DataBytes  int64  `json:"data_bytes"` // valid bytes, header included (compressed: file size)
	FileBytes  int64  `json:"file_bytes"` // apparent file size (an active segment is pre-sized)
	Compressed bool   `json:"compressed"`
	FirstMs    int64  `json:"first_ms,omitempty"`
	LastMs     int64  `json:"last_ms,omitempty"`
	Error      string `json:"error,omitempty"`
}

// inspectRecord is the JSON line --dump prints per record.
type inspectRecord struct {
	Seq             uint64 `json:"seq"`
	ArrivalMs       int64  `json:"arrival_ms"`
	PartitionKey    string `json:"partition_key"`
	ExplicitHashKey string `json:"explicit_hash_key,omitempty"`
	Data            []byte `json:"data"` // base64, as the Kinesis API shows it
}

// runInspect is `shardlog inspect [--dump STREAM/SHARD] DATA_DIR`: with the
// daemon stopped (or at least idle), it prints one JSON object per line for
// every stream and every shard (segments, sizes, sequence ranges), or with
// --dump every record of one shard. It opens nothing for writing and
// creates no file.
func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shardlog inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dump := fs.String("dump", "", "print the records of `STREAM/SHARD` as JSON lines")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: shardlog inspect [--dump STREAM/SHARD] DATA_DIR")
		return 2
	}
	streams, err := shard.Walk(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "shardlog inspect: %v\n", err)
		return 1
	}
	opts := segment.DefaultOptions()
	opts.Logger = zerolog.Nop()
	enc := json.NewEncoder(stdout)
	if *dump != "" {
		if err := dumpShard(streams, *dump, opts, enc); err != nil {
			fmt.Fprintf(stderr, "shardlog inspect: %v\n", err)
			return 1
		}
		return 0
	}
	for _, st := range streams {
		shards := make([]inspectShard, 0, len(st.Shards))
		s := inspectStream{Type: "stream", Stream: st.Name, Dir: st.Dir, Mode: string(st.Mode),
			RetentionHours: st.RetentionHours, CreatedMs: st.CreatedMs, Shards: len(st.Shards)}
		for _, l := range st.Shards {
			sh := inspectShard{Type: "shard", Stream: st.Name, Shard: l.ID, Segments: []inspectSegment{},
				Parent: l.Parent, AdjacentParent: l.AdjacentParent, Closed: l.ClosedMs != 0}
			if l.Listed {
				sh.HashStart, sh.HashEnd = l.HashRange.Start.String(), l.HashRange.End.String()
			}
			for _, base := range l.Segments {
				seg := inspectOne(l.Dir, base, opts)
				sh.Segments = append(sh.Segments, seg)
				sh.Records += int64(seg.Records)
				sh.Bytes += seg.FileBytes
				if sh.FirstSeq == nil && seg.Records > 0 {
					first := seg.Base
					sh.FirstSeq = &first
				}
				if seg.Records > 0 {
					n := seg.NextSeq
					sh.NextSeq = &n
				}
			}
			s.Records += sh.Records
			s.Bytes += sh.Bytes
			shards = append(shards, sh)
		}
		if err := enc.Encode(s); err != nil {
			return 1
		}
		for _, sh := range shards {
			if err := enc.Encode(sh); err != nil {
				return 1
			}
		}
	}
	return 0
}

// inspectOne describes one segment, read-only.
func inspectOne(dir string, base uint64, opts segment.Options) inspectSegment {
	out := inspectSegment{Base: base, NextSeq: base}
	if fi, err := os.Stat(filepath.Join(dir, segment.Name(base))); err == nil {
		out.FileBytes = fi.Size()
	}
	seg, err := segment.OpenReadOnly(dir, base, opts)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer seg.Close()
	out.NextSeq = seg.NextSeq()
	out.Records = out.NextSeq - base
	out.DataBytes = seg.Size()
	out.Compressed = seg.Compressed()
	if out.Records > 0 {
		out.FirstMs, out.LastMs = seg.FirstTimeMs(), seg.LastTimeMs()
	}
	return out
}

// dumpShard writes every record of "STREAM/SHARD" to enc.
func dumpShard(streams []shard.StreamLayout, which string, opts segment.Options, enc *json.Encoder) error {
	name, id, ok := strings.Cut(which, "/")
	if !ok {
		return fmt.Errorf("--dump %q: want STREAM/SHARD, e.g. orders/shardId-000000000000", which)
	}
	for _, st := range streams {
		if st.Name != name {
			continue
		}
		for _, sh := range st.Shards {
			if sh.ID != id {
				continue
			}
			for _, base := range sh.Segments {
				if err := dumpSegment(sh.Dir, base, opts, enc); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("no shard %s in stream %s", id, name)
	}
	return fmt.Errorf("no stream %q in the data directory", name)
}

func dumpSegment(dir string, base uint64, opts segment.Options, enc *json.Encoder) error {
	seg, err := segment.OpenReadOnly(dir, base, opts)
	if err != nil {
		return err
	}
	defer seg.Close()
	var recs []segment.Record
	for next, end := base, seg.NextSeq(); next < end; {
		recs, err = seg.Read(next, 1000, 8<<20, recs[:0])
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, r := range recs {
			out := inspectRecord{Seq: r.Seq, ArrivalMs: r.ArrivalMs, PartitionKey: string(r.PartitionKey), ExplicitHashKey: string(r.ExplicitHashKey), Data: r.Data}
			if err := enc.Encode(out); err != nil {
				return err
			}
			next = r.Seq + 1
		}
	}
	return nil
}
