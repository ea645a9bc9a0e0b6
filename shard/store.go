package shard

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/index/durable"
	"github.com/shardlog/shardlog/segment"
)

const (
	storeMetaFile = "shardlog.meta"
	streamsDir    = "streams"
	streamFile    = "stream.json"
	tmpSuffix     = ".tmp"
	deleteSuffix  = ".deleting"
	// shardDirPrefix starts the name of every shard directory: the shard id.
	shardDirPrefix = "shardId-"
)

// storeMeta is the content of shardlog.meta.
type storeMeta struct {
	Version int    `json:"version"`
	StoreID string `json:"store_id"`
	// Secret signs shard iterators, so they survive restarts but cannot be forged.
	Secret  []byte          `json:"secret"`
	Account AccountSettings `json:"account"`
}

// AccountSettings are the account-wide settings Describe/UpdateAccountSettings
// report and change.
type AccountSettings struct {
	// CommitmentStatus is the minimum throughput billing commitment status:
	// "" (never set), "ENABLED", "DISABLED" or "ENABLED_UNTIL_EARLIEST_ALLOWED_END".
	CommitmentStatus    string `json:"commitment_status,omitempty"`
	CommitmentStartedMs int64  `json:"commitment_started_ms,omitempty"`
	CommitmentEndedMs   int64  `json:"commitment_ended_ms,omitempty"`
	EarliestEndMs       int64  `json:"earliest_end_ms,omitempty"`
}

// Store is every stream of one data directory. Its methods are safe for
// concurrent use.
type Store struct {
	opts Options
	log  zerolog.Logger
	dir  string

	// account serialises the changes AccountLimits guard (creating
	// streams, resharding, switching to ON_DEMAND), so that a limit checked
	// before a change still holds when it is made; taken before mu.
	account sync.Mutex
	limits  atomic.Pointer[AccountLimits]

	mu      sync.RWMutex // guards streams, meta and closed; taken before any Stream.mu
	streams map[string]*Stream
	meta    storeMeta
	// commit syncs shards in store-wide rounds (FsyncAlways appends and the
	// FsyncInterval pass).
	commit committer
	closed bool

	stop chan struct{}
	wg   sync.WaitGroup
	res  *residency // bounds the loaded shards (resident.go)
	// prep creates new shards' first segments in the background
	// (prepare.go); nil under Options.LazyFirstSegments.
	prep *preparer
}

// Open opens or initialises the data directory in opts.Dir, recovers every
// stream and shard, and starts the background retention pass (Expire, then
// Compress) and (under
// FsyncInterval) the periodic syncer. Directories left by an interrupted
// create or delete are removed.
func Open(opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("open store: no data directory")
	}
	if opts.Segment.Files == nil {
		// One bound on write descriptors for every segment of the store.
		opts.Segment.Files = segment.NewFiles(segment.DefaultOpenFiles)
	}
	s := &Store{
		opts:    opts,
		log:     opts.Logger.With().Str("component", "store").Logger(),
		dir:     opts.Dir,
		streams: make(map[string]*Stream),
		stop:    make(chan struct{}),
		res:     newResidency(opts.MaxLoadedShards),
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", s.dir, err)
	}
	if err := mkdirSynced(filepath.Join(s.dir, streamsDir), s.opts.fault); err != nil {
		return nil, fmt.Errorf("open store %s: %w", s.dir, err)
	}
	s.commit.fs = openFSSyncer(s.dir, s.opts.fault)
	if err := s.loadMeta(); err != nil {
		s.commit.fs.close()
		return nil, err
	}
	points := s.takeResumePoints() // gone from disk before any is used
	if err := s.loadStreams(); err != nil {
		s.closeStreams()
		s.commit.fs.close()
		return nil, err
	}
	s.giveResumePoints(points)
	s.wg.Add(1)
	go s.every(opts.ExpireInterval, func() {
		s.Expire()
		s.Compress() // what did not expire
	})
	s.wg.Add(1)
	go s.residencyLoop()
	if opts.Fsync == FsyncInterval {
		s.wg.Add(1)
		go s.every(opts.FsyncInterval, s.syncAll)
	}
	if !opts.LazyFirstSegments {
		s.prep = newPreparer(s)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.prep.run()
		}()
	}
	return s, nil
}

// loadMeta reads shardlog.meta, creating it with a fresh secret when absent.
func (s *Store) loadMeta() error {
	path := filepath.Join(s.dir, storeMetaFile)
	err := readJSON(path, &s.meta)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.meta = storeMeta{Version: metaVersion, StoreID: randomHex(8), Secret: make([]byte, 32)}
		if _, err := rand.Read(s.meta.Secret); err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		return writeJSONAtomic(path, &s.meta, s.opts.fault)
	case err != nil:
		return fmt.Errorf("open store: %w", err)
	case s.meta.Version != metaVersion:
		return fmt.Errorf("open store %s: format version %d, this build reads %d: %w",
			s.dir, s.meta.Version, metaVersion, ErrFormat)
	case len(s.meta.Secret) < 16:
		return fmt.Errorf("open store %s: iterator secret missing: %w", s.dir, ErrFormat)
	}
	return nil
}

// loadStreams opens every stream directory and removes leftovers of
// interrupted creates and deletes.
func (s *Store) loadStreams() error {
	root := filepath.Join(s.dir, streamsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(root, e.Name())
		if leftover(e.Name()) {
			s.log.Info().Str("path", path).Msg("removing leftover of an interrupted create or delete")
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			continue
		}
		if !e.IsDir() {
			s.log.Warn().Str("path", path).Msg("ignoring unknown file in streams directory")
			continue
		}
		st, err := s.openStream(path)
		if err != nil {
			return err
		}
		s.streams[st.name] = st
	}
	return nil
}

// openStream opens one stream directory.
func (s *Store) openStream(dir string) (*Stream, error) {
	var m streamMeta
	if err := readJSON(filepath.Join(dir, streamFile), &m); err != nil {
		return nil, fmt.Errorf("open stream %s: %w", dir, err)
	}
	if m.Version != metaVersion {
		return nil, fmt.Errorf("open stream %s: format version %d, this build reads %d: %w",
			dir, m.Version, metaVersion, ErrFormat)
	}
	st := s.newStream(dir, &m)
	if err := st.openShards(); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Store) newStream(dir string, m *streamMeta) *Stream {
	st := &Stream{store: s, dir: dir, name: m.Name, arn: s.StreamARN(m.Name), meta: m}
	st.retention.Store(m.RetentionNs)
	st.trimMs.Store(m.TrimHorizonMs)
	st.auto.Store(m.Distribution == DistributionAuto)
	return st
}

// shardSpec is the spec of the stream's shard described by m.
func (st *Stream) shardSpec(m shardMeta) shardSpec {
	return shardSpec{meta: m, dir: filepath.Join(st.dir, m.ID), retention: &st.retention, trimMs: &st.trimMs, res: st.store.res, commit: &st.store.commit}
}

// openShards makes the shards listed in the metadata, dormant (see
// Shard.ensure), and removes shard directories the metadata does not list
// (a reshard interrupted before its metadata was written).
func (st *Stream) openShards() error {
	known := make(map[string]bool, len(st.meta.Shards))
	for _, m := range st.meta.Shards {
		sh := newShard(st.shardSpec(m), &st.store.opts)
		st.shards = append(st.shards, sh)
		known[m.ID] = true
	}
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		st.closeShards()
		return fmt.Errorf("open stream %s: %w", st.name, err)
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), shardDirPrefix) && !known[e.Name()] {
			st.store.log.Info().Str("stream", st.name).Str("shard", e.Name()).Msg("removing shard of an interrupted reshard")
			if err := os.RemoveAll(filepath.Join(st.dir, e.Name())); err != nil {
				st.closeShards()
				return fmt.Errorf("open stream %s: %w", st.name, err)
			}
		}
	}
	st.publishOpenLocked()
	return nil
}

func (st *Stream) closeShards() {
	for _, sh := range st.shards {
		if err := sh.shutdown(); err != nil {
			st.store.log.Error().Err(err).Str("stream", st.name).Msg("close shard")
		}
	}
}

// Secret returns the data directory's iterator-signing secret.
func (s *Store) Secret() []byte { return s.meta.Secret }

// Options returns the options the store runs with, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// StreamARN returns the ARN of a stream name in this store's region and account.
func (s *Store) StreamARN(name string) string {
	return "arn:aws:kinesis:" + s.opts.Region + ":" + s.opts.AccountID + ":stream/" + name
}

// StreamNameFromARN returns the stream name in a stream ARN of this store's
// region and account, and false for any other string.
func (s *Store) StreamNameFromARN(arn string) (string, bool) {
	prefix := "arn:aws:kinesis:" + s.opts.Region + ":" + s.opts.AccountID + ":stream/"
	if !strings.HasPrefix(arn, prefix) || len(arn) == len(prefix) || strings.Contains(arn[len(prefix):], "/") {
		return "", false
	}
	return arn[len(prefix):], true
}

// dirName maps a stream name to a directory name that is safe on any file
// system: stream names ([a-zA-Z0-9_.-]) keep lowercase letters, digits and
// "_.-", upper-case letters become '^' + lower case (so names that differ only
// in case never collide on case-insensitive file systems), and the "s_" prefix
// keeps "." and ".." from being special.
func dirName(name string) string {
	var b strings.Builder
	b.WriteString("s_")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('^')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// CreateStream creates a stream with cfg.ShardCount shards splitting the
// hash-key space evenly. It fails with ErrStreamExists for a name in use,
// then with a *LimitError when the shards or the ON_DEMAND mode would pass
// the AccountLimits. After it returns the stream survives a crash; a
// crash before that leaves no trace of it.
func (s *Store) CreateStream(cfg StreamConfig) (*Stream, error) {
	if cfg.ShardCount < 1 || cfg.ShardCount > maxSeqIndex {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, ErrBadShardCount)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeProvisioned
	}
	if cfg.MaxRecordSizeKiB == 0 {
		cfg.MaxRecordSizeKiB = DefaultMaxRecordSizeKiB
	}
	s.account.Lock()
	defer s.account.Unlock()
	if _, err := s.Stream(cfg.Name); err == nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, ErrStreamExists)
	} else if !errors.Is(err, ErrStreamNotFound) {
		return nil, err
	}
	if err := s.admitShardsLocked(cfg.ShardCount); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if cfg.Mode == ModeOnDemand {
		if err := s.admitOnDemandLocked(); err != nil {
			return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	if _, ok := s.streams[cfg.Name]; ok {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, ErrStreamExists)
	}
	now := s.opts.Now().UnixMilli()
	m := &streamMeta{
		Version:             metaVersion,
		Name:                cfg.Name,
		CreatedMs:           now,
		Mode:                cfg.Mode,
		RetentionHours:      int(DefaultRetention / time.Hour),
		RetentionNs:         int64(s.opts.storedRetention(DefaultRetention)),
		MaxRecordSizeKiB:    cfg.MaxRecordSizeKiB,
		WarmThroughputMiBps: cfg.WarmThroughputMiBps,
		NextShardIndex:      cfg.ShardCount,
	}
	if cfg.Distribution == DistributionAuto {
		m.Distribution = DistributionAuto
	}
	if len(cfg.Tags) > 0 {
		m.Tags = make(map[string]string, len(cfg.Tags))
		for k, v := range cfg.Tags {
			m.Tags[k] = v
		}
	}
	for i, r := range SplitEvenly(cfg.ShardCount) {
		m.Shards = append(m.Shards, shardMeta{
			ID: shardID(i), Index: i, HashStart: jsonKey{r.Start}, HashEnd: jsonKey{r.End}, CreatedMs: now,
		})
	}
	root := filepath.Join(s.dir, streamsDir)
	final := filepath.Join(root, dirName(cfg.Name))
	tmp := final + tmpSuffix
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	// The shards' directories are made inside the new stream directory,
	// whose sync in writeJSONAtomic makes them durable together; each
	// shard's first segment is created after the call, by the preparer or
	// by its first append, so a new stream costs metadata only.
	for _, sm := range m.Shards {
		if err := os.Mkdir(filepath.Join(tmp, sm.ID), 0o755); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	if err := writeJSONAtomic(filepath.Join(tmp, streamFile), m, s.opts.fault); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := s.opts.fault("stream-rename"); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := s.opts.fault("stream-dirsync"); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := durable.SyncDir(root); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	st := s.newStream(final, m)
	if err := st.openShards(); err != nil {
		// The directory could not be read back: take the stream out again,
		// so that it is gone now and after a restart.
		aside := fmt.Sprintf("%s.%d%s", final, time.Now().UnixNano(), deleteSuffix)
		if rerr := os.Rename(final, aside); rerr != nil {
			return nil, errors.Join(err, fmt.Errorf("create stream %s: undo: %w", cfg.Name, rerr))
		}
		_ = durable.SyncDir(root)
		_ = os.RemoveAll(aside)
		return nil, err
	}
	s.streams[cfg.Name] = st
	s.prepare(st, st.shards)
	s.log.Info().Str("stream", cfg.Name).Int("shards", cfg.ShardCount).Msg("created stream")
	return st, nil
}

// prepare hands the new shards of st to the preparer, if there is one.
func (s *Store) prepare(st *Stream, shards []*Shard) {
	if s.prep != nil {
		s.prep.add(st, shards)
	}
}

func shardID(index int) string { return fmt.Sprintf("%s%012d", shardDirPrefix, index) }

// Stream returns the stream with the given name. A stream that is being
// deleted is still returned (its Status says DELETING).
func (s *Store) Stream(name string) (*Stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	st, ok := s.streams[name]
	if !ok {
		return nil, fmt.Errorf("stream %s: %w", name, ErrStreamNotFound)
	}
	return st, nil
}

// Streams returns every stream, sorted by name.
func (s *Store) Streams() []*Stream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// OpenShardCount returns the number of open shards across all streams.
func (s *Store) OpenShardCount() int {
	n := 0
	for _, st := range s.Streams() {
		n += len(*st.open.Load())
	}
	return n
}

// DeleteStream deletes a stream and its files. The stream shows DELETING for
// the store's DeleteDelay, then disappears. The removal is crash-safe: the
// directory is first renamed aside, so after a crash the stream is either
// whole or gone. It fails with ErrStreamNotFound when there is no such
// stream and with ErrNotActive when the stream is already DELETING.
func (s *Store) DeleteStream(name string) error {
	s.mu.Lock()
	st, ok := s.streams[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("delete stream %s: %w", name, ErrStreamNotFound)
	}
	if st.deleting.Load() {
		s.mu.Unlock()
		return fmt.Errorf("delete stream %s: already deleting: %w", name, ErrNotActive)
	}
	st.deleting.Store(true)
	s.mu.Unlock()
	if d := s.opts.DeleteDelay; d > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case <-time.After(d):
			case <-s.stop:
			}
			if err := s.removeStream(st); err != nil {
				s.log.Error().Err(err).Str("stream", name).Msg("delete stream")
			}
		}()
		return nil
	}
	return s.removeStream(st)
}

// removeStream unlinks a deleting stream from the store and removes its files.
func (s *Store) removeStream(st *Stream) error {
	s.mu.Lock()
	if s.streams[st.name] == st {
		delete(s.streams, st.name)
	}
	s.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, sh := range st.shards {
		for _, seg := range sh.retireAll() {
			seg.Retire(false)
		}
		if sh.loaded.Load() { // never unloaded again: retireAll made it sticky
			s.res.loaded.Add(-1)
		}
	}
	aside := fmt.Sprintf("%s.%d%s", st.dir, time.Now().UnixNano(), deleteSuffix)
	if err := s.opts.fault("delete-rename"); err != nil {
		return fmt.Errorf("delete stream %s: %w", st.name, err)
	}
	if err := os.Rename(st.dir, aside); err != nil {
		return fmt.Errorf("delete stream %s: %w", st.name, err)
	}
	if err := s.opts.fault("delete-dirsync"); err != nil {
		return fmt.Errorf("delete stream %s: %w", st.name, err)
	}
	if err := durable.SyncDir(filepath.Dir(st.dir)); err != nil {
		return fmt.Errorf("delete stream %s: %w", st.name, err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("delete stream %s: %w", st.name, err)
	}
	s.log.Info().Str("stream", st.name).Msg("deleted stream")
	return nil
}

// AccountSettings returns the account-wide settings.
func (s *Store) AccountSettings() AccountSettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.Account
}

// SetAccountSettings replaces the account-wide settings.
func (s *Store) SetAccountSettings(a AccountSettings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meta
	m.Account = a
	if err := writeJSONAtomic(filepath.Join(s.dir, storeMetaFile), &m, s.opts.fault); err != nil {
		return fmt.Errorf("update account settings: %w", err)
	}
	s.meta = m
	return nil
}

// Close stops the background work and closes every segment. Records
// appended before Close survive; Close does not seal active segments, so the
// next Open recovers them like after a crash (cheaply: from the last index
// entry).
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	if s.prep != nil {
		s.prep.stop()
	}
	s.wg.Wait()
	s.syncAll()
	s.closeStreams()
	if err := s.writeResumePoints(); err != nil {
		// The next start resumes every shard above its reservation.
		s.log.Warn().Err(err).Msg("cannot write the resume file")
	}
	s.commit.fs.close()
	return nil
}

func (s *Store) closeStreams() {
	for _, st := range s.streams {
		st.mu.Lock()
		st.closeShards()
		st.mu.Unlock()
	}
}

// syncAll syncs every loaded shard with unsynced records, in parallel, in
// one group-commit round (FsyncInterval's background pass, and Close).
// Failures are logged where they happen and make their shard refuse appends.
func (s *Store) syncAll() {
	var shards []*Shard
	for _, st := range s.Streams() {
		shards = append(shards, st.Shards()...)
	}
	s.commit.syncAll(shards)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
