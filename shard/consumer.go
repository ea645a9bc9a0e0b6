package shard

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// ConsumerStatus is the lifecycle state of a registered (enhanced fan-out)
// consumer.
type ConsumerStatus string

// Consumer statuses.
const (
	ConsumerCreating ConsumerStatus = "CREATING"
	ConsumerActive   ConsumerStatus = "ACTIVE"
	ConsumerDeleting ConsumerStatus = "DELETING"
)

// MaxConsumers is how many consumers a stream may have registered at once,
// DELETING ones included (AWS's limit).
const MaxConsumers = 20

// MaxCreatingConsumers is how many consumers may be CREATING at once.
const MaxCreatingConsumers = 5

// consumerMeta is a consumer's entry in stream.json.
type consumerMeta struct {
	Name      string `json:"name"`
	CreatedMs int64  `json:"created_ms"`
	// DeletingMs is when DeregisterConsumer ran; 0 while registered. The
	// consumer is DELETING for the store's DeleteDelay after it, then gone.
	DeletingMs int64             `json:"deleting_ms,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// ConsumerInfo is a snapshot of one consumer.
type ConsumerInfo struct {
	Name string
	// ARN is "<stream ARN>/consumer/<name>:<creation time in epoch seconds>",
	// AWS's form; the timestamp tells apart consumers of the same name
	// registered one after another.
	ARN       string
	StreamARN string
	Status    ConsumerStatus
	CreatedAt time.Time
}

// ConsumerARN returns the ARN of the consumer name of the stream with ARN
// streamARN, created at createdMs.
func ConsumerARN(streamARN, name string, createdMs int64) string {
	return streamARN + "/consumer/" + name + ":" + strconv.FormatInt(createdMs/1000, 10)
}

// consumerStatus is c's status at nowMs, and false once a deregistered
// consumer is gone.
func (st *Stream) consumerStatus(c *consumerMeta, nowMs int64) (ConsumerStatus, bool) {
	o := st.store.opts
	switch {
	case c.DeletingMs != 0:
		return ConsumerDeleting, nowMs < c.DeletingMs+o.DeleteDelay.Milliseconds()
	case nowMs < c.CreatedMs+o.CreateDelay.Milliseconds():
		return ConsumerCreating, true
	}
	return ConsumerActive, true
}

func (st *Stream) consumerInfo(c *consumerMeta, status ConsumerStatus) ConsumerInfo {
	return ConsumerInfo{
		Name:      c.Name,
		ARN:       ConsumerARN(st.arn, c.Name, c.CreatedMs),
		StreamARN: st.arn,
		Status:    status,
		CreatedAt: time.UnixMilli(c.CreatedMs),
	}
}

// pruneConsumers drops consumers whose deletion has completed by nowMs.
func (st *Stream) pruneConsumers(m *streamMeta, nowMs int64) {
	m.Consumers = slices.DeleteFunc(m.Consumers, func(c consumerMeta) bool {
		_, live := st.consumerStatus(&c, nowMs)
		return !live
	})
}

// RegisterConsumer registers a consumer named name, CREATING for the store's
// CreateDelay and ACTIVE after. It fails with ErrConsumerExists when a
// consumer of that name is registered (or still DELETING), and with
// ErrTooManyConsumers past MaxConsumers or MaxCreatingConsumers; first of
// all with a *LimitError at AccountLimits.ConsumersPerStream. The
// registration is in stream.json when it returns.
func (st *Stream) RegisterConsumer(name string) (ConsumerInfo, error) {
	nowMs := st.store.opts.Now().UnixMilli()
	var info ConsumerInfo
	err := st.update(func(m *streamMeta) error {
		st.pruneConsumers(m, nowMs)
		if limit := st.store.AccountLimits().ConsumersPerStream; limit > 0 && limit < MaxConsumers && len(m.Consumers) >= limit {
			return &LimitError{Kind: LimitConsumers, Current: len(m.Consumers), Max: limit}
		}
		creating := 0
		for i := range m.Consumers {
			c := &m.Consumers[i]
			if c.Name == name {
				return fmt.Errorf("stream %s consumer %s: %w", st.name, name, ErrConsumerExists)
			}
			if s, _ := st.consumerStatus(c, nowMs); s == ConsumerCreating {
				creating++
			}
		}
		if len(m.Consumers) >= MaxConsumers || creating >= MaxCreatingConsumers {
			return fmt.Errorf("stream %s consumer %s: %w", st.name, name, ErrTooManyConsumers)
		}
		m.Consumers = append(m.Consumers, consumerMeta{Name: name, CreatedMs: nowMs})
		c := &m.Consumers[len(m.Consumers)-1]
		s, _ := st.consumerStatus(c, nowMs)
		info = st.consumerInfo(c, s)
		return nil
	})
	return info, err
}

// Consumers returns the stream's consumers, DELETING ones included, in
// registration order.
func (st *Stream) Consumers() []ConsumerInfo {
	nowMs := st.store.opts.Now().UnixMilli()
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]ConsumerInfo, 0, len(st.meta.Consumers))
	for i := range st.meta.Consumers {
		c := &st.meta.Consumers[i]
		if s, live := st.consumerStatus(c, nowMs); live {
			out = append(out, st.consumerInfo(c, s))
		}
	}
	return out
}

// Consumer returns the consumer named name, or ErrConsumerNotFound.
func (st *Stream) Consumer(name string) (ConsumerInfo, error) {
	nowMs := st.store.opts.Now().UnixMilli()
	st.mu.RLock()
	defer st.mu.RUnlock()
	c, err := st.consumerLocked(name, nowMs)
	if err != nil {
		return ConsumerInfo{}, err
	}
	s, _ := st.consumerStatus(c, nowMs)
	return st.consumerInfo(c, s), nil
}

// consumerLocked finds a live consumer in st.meta. st.mu must be held.
func (st *Stream) consumerLocked(name string, nowMs int64) (*consumerMeta, error) {
	return findConsumer(st, st.meta, name, nowMs)
}

func findConsumer(st *Stream, m *streamMeta, name string, nowMs int64) (*consumerMeta, error) {
	for i := range m.Consumers {
		c := &m.Consumers[i]
		if c.Name != name {
			continue
		}
		if _, live := st.consumerStatus(c, nowMs); live {
			return c, nil
		}
	}
	return nil, fmt.Errorf("stream %s consumer %s: %w", st.name, name, ErrConsumerNotFound)
}

// DeregisterConsumer starts the deregistration of the consumer named name:
// it is DELETING for the store's DeleteDelay, then gone. It returns the
// consumer as it was before, or ErrConsumerNotFound (also for a consumer
// already DELETING).
func (st *Stream) DeregisterConsumer(name string) (ConsumerInfo, error) {
	nowMs := st.store.opts.Now().UnixMilli()
	var info ConsumerInfo
	err := st.update(func(m *streamMeta) error {
		st.pruneConsumers(m, nowMs)
		c, err := findConsumer(st, m, name, nowMs)
		if err != nil {
			return err
		}
		s, _ := st.consumerStatus(c, nowMs)
		if s == ConsumerDeleting {
			return fmt.Errorf("stream %s consumer %s: %w", st.name, name, ErrConsumerNotFound)
		}
		info = st.consumerInfo(c, s)
		c.DeletingMs = nowMs
		if st.store.opts.DeleteDelay <= 0 {
			st.pruneConsumers(m, nowMs)
		}
		return nil
	})
	return info, err
}

// ConsumerTags returns a copy of the tags of the consumer named name.
func (st *Stream) ConsumerTags(name string) (map[string]string, error) {
	nowMs := st.store.opts.Now().UnixMilli()
	st.mu.RLock()
	defer st.mu.RUnlock()
	c, err := st.consumerLocked(name, nowMs)
	if err != nil {
		return nil, err
	}
	return maps.Clone(c.Tags), nil
}

// AddConsumerTags adds or overwrites tags of the consumer named name; it
// fails with ErrTooManyTags past MaxTags.
func (st *Stream) AddConsumerTags(name string, tags map[string]string) error {
	nowMs := st.store.opts.Now().UnixMilli()
	return st.update(func(m *streamMeta) error {
		c, err := findConsumer(st, m, name, nowMs)
		if err != nil {
			return err
		}
		merged := maps.Clone(c.Tags)
		if merged == nil {
			merged = make(map[string]string, len(tags))
		}
		maps.Copy(merged, tags)
		if len(merged) > MaxTags {
			return fmt.Errorf("stream %s consumer %s: %w", st.name, name, ErrTooManyTags)
		}
		c.Tags = merged
		return nil
	})
}

// RemoveConsumerTags removes the tags with the given keys from the consumer
// named name; absent keys are ignored.
func (st *Stream) RemoveConsumerTags(name string, keys []string) error {
	nowMs := st.store.opts.Now().UnixMilli()
	return st.update(func(m *streamMeta) error {
		c, err := findConsumer(st, m, name, nowMs)
		if err != nil {
			return err
		}
		c.Tags = maps.Clone(c.Tags)
		for _, k := range keys {
			delete(c.Tags, k)
		}
		return nil
	})
}

// cloneConsumers deep-copies a consumer list for streamMeta.clone.
func cloneConsumers(cs []consumerMeta) []consumerMeta {
	if cs == nil {
		return nil
	}
	out := slices.Clone(cs)
	for i := range out {
		out[i].Tags = maps.Clone(cs[i].Tags)
	}
	return out
}
