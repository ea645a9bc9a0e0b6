package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardlog/shardlog/index/durable"
)

// metaVersion is the version of stream.json and shardlog.meta. A data
// directory written by another version is refused with ErrFormat.
const metaVersion = 1

// jsonKey is a HashKey that marshals as a decimal string.
type jsonKey struct{ Key HashKey }

// MarshalJSON writes the key as a decimal string.
func (k jsonKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.Key.String()) }

// UnmarshalJSON reads a decimal string.
func (k *jsonKey) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	key, err := ParseHashKey(s)
	k.Key = key
	return err
}

// shardMeta is a shard's entry in stream.json.
type shardMeta struct {
	ID             string  `json:"id"`
	Index          int     `json:"index"`
	HashStart      jsonKey `json:"hash_start"`
	HashEnd        jsonKey `json:"hash_end"`
	Parent         string  `json:"parent,omitempty"`
	AdjacentParent string  `json:"adjacent_parent,omitempty"`
	CreatedMs      int64   `json:"created_ms"`
	// NextFloor is the lowest position the next record may get; it keeps
	// positions increasing when every segment of a shard has been lost.
	NextFloor uint64 `json:"next_floor,omitempty"`
	// End is the position after the last record once the shard is closed.
	End      *uint64 `json:"end,omitempty"`
	ClosedMs int64   `json:"closed_ms,omitempty"`
}

// streamMeta is the content of <stream>/stream.json.
type streamMeta struct {
	Version        int        `json:"version"`
	Name           string     `json:"name"`
	CreatedMs      int64      `json:"created_ms"`
	Mode           StreamMode `json:"mode"`
	RetentionHours int        `json:"retention_hours"`
	// RetentionNs is the retention in force: RetentionHours, or the store's
	// retention floor for a new stream when that floor is below 24 h.
	RetentionNs int64 `json:"retention_ns"`
	// TrimHorizonMs is when the retention period was last raised, minus
	// the period before: records that arrived earlier had expired and stay
	// expired (Unix ms; 0 when the period never grew).
	TrimHorizonMs       int64             `json:"trim_horizon_ms,omitempty"`
	EncryptionType      string            `json:"encryption_type,omitempty"`
	KeyID               string            `json:"key_id,omitempty"`
	MaxRecordSizeKiB    int               `json:"max_record_size_kib"`
	WarmThroughputMiBps int               `json:"warm_throughput_mibps,omitempty"`
	EnhancedMetrics     []string          `json:"enhanced_metrics,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
	ResourcePolicy      string            `json:"resource_policy,omitempty"`
	// Distribution is "" (USER_PARTITION_KEY) or DistributionAuto.
	Distribution   string      `json:"distribution,omitempty"`
	NextShardIndex int         `json:"next_shard_index"`
	Shards         []shardMeta `json:"shards"`
	// UpdatingUntilMs keeps the stream UPDATING until then (UpdateDelay).
	UpdatingUntilMs int64 `json:"updating_until_ms,omitempty"`
	// Consumers are the registered enhanced fan-out consumers (consumer.go).
	Consumers []consumerMeta `json:"consumers,omitempty"`
}

// clone returns a deep copy, so an update can be prepared aside and installed
// only once it is on disk.
func (m *streamMeta) clone() *streamMeta {
	c := *m
	c.EnhancedMetrics = append([]string(nil), m.EnhancedMetrics...)
	if m.Tags != nil {
		c.Tags = make(map[string]string, len(m.Tags))
		for k, v := range m.Tags {
			c.Tags[k] = v
		}
	}
	c.Consumers = cloneConsumers(m.Consumers)
	c.Shards = make([]shardMeta, len(m.Shards))
	for i, s := range m.Shards {
		c.Shards[i] = s
		if s.End != nil {
			end := *s.End
			c.Shards[i].End = &end
		}
	}
	return &c
}

// writeFileAtomic replaces path with data so that after a crash the file
// holds either the old or the new content: temp file, fsync, rename, fsync
// the directory.
func writeFileAtomic(path string, data []byte, fault func(op string) error) error {
	dir := filepath.Dir(path)
	if err := fault("meta-write"); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fault("meta-fsync"); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := fault("meta-rename"); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	if err := fault("meta-dirsync"); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return durable.SyncDir(dir)
}

// mkdirSynced creates dir if it does not exist and then fsyncs its parent,
// so that a directory a shard or stream was acknowledged with survives
// power loss. An existing dir is left as it is.
func mkdirSynced(dir string, fault func(op string) error) error {
	if err := fault("mkdir"); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil
		}
		return fmt.Errorf("create directory: %w", err)
	}
	return durable.SyncDir(filepath.Dir(dir))
}

// writeJSONAtomic marshals v and writes it with writeFileAtomic.
func writeJSONAtomic(path string, v any, fault func(op string) error) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeFileAtomic(path, append(data, '\n'), fault)
}

// readJSON reads path into v.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
