package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/shardlog/shardlog/index/durable"
)

// resumeFile, in the data directory, holds where each shard's next load
// may resume without flushing a new reservation first (resumePoint). A
// clean Close writes it (temp name, fsync, rename, directory sync); Open
// reads it and removes it, durably, before any shard uses a point, so a
// crash after that finds none and resumes at the reservations as before.
const (
	resumeFile    = "resume.json"
	resumeVersion = 1
)

// resumePoint is what a load needs to resume a shard at its exact next
// position rather than above its reservation: the base of the active
// segment and the reservation its header held when the point was taken
// (durable, and above next), and the next position. A load trusts a point
// only while the last segment still has that base and that reservation:
// anything that appended since (or rolled, or cut a damaged tail) changed
// one of them, because handing out a position at or above the reservation
// raises it first.
type resumePoint struct {
	Base     uint64 `json:"base"`
	Reserved uint64 `json:"reserved"`
	Next     uint64 `json:"next"`
}

// resumeDoc is the resume file: points by shard directory, relative to the
// data directory, for the store that wrote it.
type resumeDoc struct {
	Version int                    `json:"version"`
	StoreID string                 `json:"store_id"`
	Shards  map[string]resumePoint `json:"shards"`
}

// takeResumePoints reads and removes the resume file, and returns its
// points when they are for this store. A file it cannot read or remove
// is ignored (logged): every shard then resumes at its reservation.
func (s *Store) takeResumePoints() map[string]resumePoint {
	path := filepath.Join(s.dir, resumeFile)
	var doc resumeDoc
	err := readJSON(path, &doc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		s.log.Warn().Err(rerr).Msg("cannot remove the resume file; resuming every shard above its reservation")
		return nil
	}
	if serr := durable.SyncDir(s.dir); serr != nil {
		s.log.Warn().Err(serr).Msg("cannot sync the removal of the resume file; resuming every shard above its reservation")
		return nil
	}
	switch {
	case err != nil:
		s.log.Warn().Err(err).Msg("unreadable resume file ignored")
		return nil
	case doc.Version != resumeVersion || doc.StoreID != s.meta.StoreID:
		s.log.Warn().Int("version", doc.Version).Msg("resume file of another version or store ignored")
		return nil
	}
	return doc.Shards
}

// writeResumePoints records the resume point of every shard that has one;
// called by Close once no shard appends any more.
func (s *Store) writeResumePoints() error {
	doc := resumeDoc{Version: resumeVersion, StoreID: s.meta.StoreID, Shards: map[string]resumePoint{}}
	for _, st := range s.streams {
		for _, sh := range st.shards {
			if p := sh.resume; p != nil {
				key, err := s.resumeKey(sh)
				if err != nil {
					return fmt.Errorf("write resume points: %w", err)
				}
				doc.Shards[key] = *p
			}
		}
	}
	if len(doc.Shards) == 0 {
		return nil
	}
	return writeJSONAtomic(filepath.Join(s.dir, resumeFile), &doc, s.opts.fault)
}

// giveResumePoints hands each shard of the store its point, if any.
func (s *Store) giveResumePoints(points map[string]resumePoint) {
	if len(points) == 0 {
		return
	}
	for _, st := range s.streams {
		for _, sh := range st.shards {
			key, err := s.resumeKey(sh)
			if err != nil {
				continue
			}
			if p, ok := points[key]; ok && !sh.loaded.Load() {
				sh.resume = &p
			}
		}
	}
}

// resumeKey names sh in the resume file: its directory, relative to the
// data directory, with forward slashes.
func (s *Store) resumeKey(sh *Shard) (string, error) {
	rel, err := filepath.Rel(s.dir, sh.dir)
	return filepath.ToSlash(rel), err
}
