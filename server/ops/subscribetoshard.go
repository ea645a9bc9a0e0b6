package ops

import (
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/shardlog/shardlog/server/limits"
	"github.com/shardlog/shardlog/server/policy"
	"github.com/shardlog/shardlog/server/sigv4"
	"github.com/shardlog/shardlog/server/wire"

	"github.com/shardlog/shardlog/shard"
)

// SubscribeOp is SubscribeToShard as authorization and the body limit see
// it; it is not in the operation table, since its response streams
// (SubscribeToShard, Pump).
var SubscribeOp = NewOperation(Spec{Name: "SubscribeToShard", Action: "kinesis:SubscribeToShard", Body: ControlBody})

// subscribeFields are the resource members of a SubscribeToShard request.
var subscribeFields = fieldsOf(reflect.TypeFor[subscribeToShardInput]())

// maxEventBytes is the most record data one SubscribeToShardEvent carries;
// a backlog is sent as several events back to back.
const maxEventBytes = 1 << 20

type subscribeToShardInput struct {
	ConsumerARN      *string
	ShardId          *string
	StartingPosition *startingPosition
}

// startingPosition is the Kinesis StartingPosition structure.
type startingPosition struct {
	Type           *string
	SequenceNumber *string
	Timestamp      *wire.EpochTime
}

// subKey identifies a subscription slot: one consumer on one shard.
type subKey struct {
	consumerARN string
	shardID     string
}

// Subscription is one live SubscribeToShard response.
type Subscription struct {
	key     subKey
	stream  *shard.Stream
	shard   *shard.Shard
	name    string // consumer name
	pos     uint64 // the next position to send
	started time.Time

	done    chan struct{} // closed by end
	endOnce sync.Once
	reason  *wire.APIError // sent as an exception event when not nil
}

// end stops the subscription; reason, when not nil, is sent to the client
// as an exception event first. Only the first call counts.
func (sub *Subscription) end(reason *wire.APIError) {
	sub.endOnce.Do(func() {
		sub.reason = reason
		close(sub.done)
	})
}

// subscriptions tracks the live subscriptions of a server and the time of
// the last successful SubscribeToShard per slot, for the takeover rule. It
// is safe for concurrent use.
type subscriptions struct {
	mu     sync.Mutex
	byKey  map[subKey]*Subscription
	closed bool
}

func newSubscriptions() *subscriptions {
	return &subscriptions{byKey: make(map[subKey]*Subscription)}
}

// errTakenOver ends a subscription that a newer one replaced.
var errTakenOver = &wire.APIError{Type: wire.ResourceInUse, Message: "Another SubscribeToShard call for this consumer and shard took over the subscription."}

// claim installs sub in its slot. Within gap of the previous successful call
// for the slot it fails with AWS's ResourceInUseException; after it, the
// previous subscription, if still live, ends with errTakenOver.
func (ss *subscriptions) claim(sub *Subscription, gap time.Duration, account string) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return &wire.APIError{Type: wire.ServiceUnavailable, Message: "Service is shutting down."}
	}
	if old := ss.byKey[sub.key]; old != nil {
		if sub.started.Sub(old.started) < gap {
			return wire.Errorf(wire.ResourceInUse, "Another active subscription exists for consumer %s on shard %s under account %s. Wait %d seconds after a successful SubscribeToShard call before calling it again.",
				sub.key.consumerARN, sub.key.shardID, account, int(gap.Seconds()))
		}
		old.end(errTakenOver)
	}
	ss.byKey[sub.key] = sub
	return nil
}

// release forgets sub once it has ended, unless a newer one holds its slot.
// The slot's time is kept while the takeover gap may still apply.
func (ss *subscriptions) release(sub *Subscription, gap time.Duration, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byKey[sub.key] == sub && now.Sub(sub.started) >= gap {
		delete(ss.byKey, sub.key)
	}
}

// endConsumer ends every subscription of the consumer with the given ARN.
func (ss *subscriptions) endConsumer(arn string, reason *wire.APIError) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, sub := range ss.byKey {
		if k.consumerARN == arn {
			sub.end(reason)
			delete(ss.byKey, k)
		}
	}
}

// closeAll ends every subscription cleanly and refuses new ones (Shutdown).
func (ss *subscriptions) closeAll() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.closed = true
	for k, sub := range ss.byKey {
		sub.end(nil)
		delete(ss.byKey, k)
	}
}

// subscribe validates a SubscribeToShard request, resolves its consumer,
// shard and starting position, and claims the slot. Errors are answered as
// ordinary error responses, before any event.
func (s *Service) subscribe(in *subscribeToShardInput) (*Subscription, error) {
	var v wire.Validator
	v.NotNull("consumerARN", in.ConsumerARN != nil)
	v.ConsumerARN("consumerARN", in.ConsumerARN)
	v.NotNull("shardId", in.ShardId != nil)
	v.Str("shardId", in.ShardId, 1, 128, wire.ShardIDPattern)
	v.NotNull("startingPosition", in.StartingPosition != nil)
	if p := in.StartingPosition; p != nil {
		v.NotNull("startingPosition.type", p.Type != nil)
		v.Enum("startingPosition.type", p.Type,
			iterAtSequenceNumber, iterAfterSequenceNumber, iterTrimHorizon, iterLatest, iterAtTimestamp)
		v.Str("startingPosition.sequenceNumber", p.SequenceNumber, 0, -1, wire.SequenceNumberPattern)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, c, err := s.consumerFor(in.ConsumerARN, nil, nil)
	if err != nil {
		return nil, err
	}
	if s.streamState(st, needSubscribe) != nil {
		return nil, s.consumerNotFound(c.ARN)
	}
	account := s.store.Options().AccountID
	if c.Status != shard.ConsumerActive {
		return nil, wire.Errorf(wire.ResourceInUse, "Consumer %s under account %s is not in an ACTIVE state, instead in state %s.", c.ARN, account, c.Status)
	}
	shardID := normalizeShardID(*in.ShardId)
	sh, err := st.Shard(shardID)
	if errors.Is(err, shard.ErrShardNotFound) {
		return nil, s.shardNotFound(st.Name(), shardID)
	} else if err != nil {
		return nil, err
	}
	p := in.StartingPosition
	pos, err := s.iteratorPosition(st, sh, *p.Type, p.SequenceNumber, p.Timestamp)
	if err != nil {
		return nil, err
	}
	sub := &Subscription{
		key:     subKey{consumerARN: c.ARN, shardID: sh.ID()},
		stream:  st,
		shard:   sh,
		name:    c.Name,
		pos:     pos,
		started: s.opts.Now(),
		done:    make(chan struct{}),
	}
	if err := s.subs.claim(sub, s.opts.SubscribeRetryInterval, account); err != nil {
		return nil, err
	}
	return sub, nil
}

// Sink is where a subscription writes framed messages: Write queues bytes,
// Flush pushes them to the client. Gone is closed when the client has left
// (nil when the transport cannot tell before a write fails).
type Sink struct {
	Write func([]byte) error
	Flush func() error
	Gone  <-chan struct{}
}

// Pump runs a subscription until it ends: the initial response, then an
// event whenever the shard's tail moves (woken by its tail notification,
// never by polling), a heartbeat event every SubscriptionHeartbeat while it
// is idle, and the last event with ChildShards once a closed shard is read
// to its end. It returns after SubscriptionLifetime, a takeover, the
// consumer's deregistration, Shutdown or a failed write.
func (s *Service) Pump(sub *Subscription, c wire.Codec, out Sink) {
	w := wire.GetEventWriter(c)
	defer wire.PutEventWriter(w)
	defer func() { s.subs.release(sub, s.opts.SubscribeRetryInterval, s.opts.Now()) }()
	send := func(b []byte, err error) bool {
		if err == nil {
			err = out.Write(b)
		}
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			sub.end(nil)
			return false
		}
		return true
	}
	if !send(w.InitialResponse()) {
		return
	}
	lifetime := time.NewTimer(s.opts.SubscriptionLifetime)
	defer lifetime.Stop()
	heartbeat := time.NewTicker(s.opts.SubscriptionHeartbeat)
	defer heartbeat.Stop()

	sh := sub.shard
	kms := sub.stream.Info().EncryptionType == "KMS"
	var res shard.ReadResult
	defer res.Release()
	var ev subscribeToShardEvent
	var cont string
	var allowance limits.Allowance
	due := false // a heartbeat is owed
	for {
		if l := s.limits.Load(); l.Throughput {
			if d := allowance.Delay(s.opts.Now(), l.ReadBytesPerSecond); d > 0 {
				wait := time.NewTimer(d)
				select {
				case <-wait.C:
				case <-sub.done:
					wait.Stop()
					if sub.reason != nil {
						send(w.Exception(sub.reason))
					}
					return
				case <-out.Gone:
					wait.Stop()
					sub.end(nil)
					return
				case <-lifetime.C:
					wait.Stop()
					sub.end(nil)
					return
				}
				continue
			}
		}
		tail := sh.TailChanged() // taken before reading, so no append is missed
		if err := sh.Read(sub.pos, maxGetRecords, maxEventBytes, &res); err != nil {
			if ae := s.corruptRecords("SubscribeToShard", sub.stream, sh, err); ae != nil {
				send(w.Exception(ae))
				return
			}
			s.log.Error().Err(err).Str("op", "SubscribeToShard").Str("stream", sub.stream.Name()).Str("shard", sh.ID()).Msg("internal failure")
			send(w.Exception(wire.InternalFailure))
			return
		}
		sub.pos = res.Next
		if len(res.Records) > 0 || res.AtEnd || due {
			ev.records = res.Records
			ev.seqID = sh.SeqID()
			ev.kms = kms
			ev.millisBehind = res.MillisBehind
			ev.childShards = nil
			ev.continuation = nil
			if res.AtEnd {
				ev.childShards = childShards(sub.stream, sh)
			} else {
				// AFTER_SEQUENCE_NUMBER of this resumes at sub.pos, also
				// at position 0 of a shard never written to.
				cont = sh.SequenceNumberBefore(sub.pos)
				ev.continuation = &cont
			}
			n, atEnd, size := len(res.Records), res.AtEnd, dataBytes(res.Records)
			s.metrics.ObserveSubscribeEvent(sub.stream, n, size, res.MillisBehind)
			allowance.Charge(size)
			ok := send(w.Event(&ev))
			ev.records = nil
			res.Release()
			if !ok || atEnd {
				return
			}
			due = false
			if n > 0 {
				continue // there may be more behind this batch
			}
		}
		select {
		case <-tail:
		case <-heartbeat.C:
			due = true
			if _, err := sub.stream.Consumer(sub.name); err != nil || s.streamState(sub.stream, needSubscribe) != nil {
				send(w.Exception(s.consumerNotFound(sub.key.consumerARN)))
				return
			}
		case <-sub.done:
			if sub.reason != nil {
				send(w.Exception(sub.reason))
			}
			return
		case <-out.Gone:
			sub.end(nil)
			return
		case <-lifetime.C:
			sub.end(nil)
			return
		}
	}
}

// SubscribeToShard decodes a SubscribeToShard request with c, authorizes
// cred (nil: auth mode none), connected as peer, on the consumer it names,
// and starts a subscription: errors are answered as ordinary error
// responses, before any event. The body may be reused once it returns: the
// request is decoded into copies.
func (s *Service) SubscribeToShard(cred *sigv4.Credential, peer policy.Peer, c wire.Codec, body []byte) (*Subscription, error) {
	in := new(subscribeToShardInput)
	if err := c.Decode(body, in); err != nil {
		return nil, err
	}
	if err := s.authorize(cred, SubscribeOp, in, subscribeFields, peer); err != nil {
		return nil, err
	}
	return s.subscribe(in)
}
