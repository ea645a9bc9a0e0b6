package bench

import "math/bits"

// bitset is a growable set of small integers. It is not safe for concurrent
// use.
type bitset []uint64

// set adds i and reports whether it was already present.
func (b *bitset) set(i uint64) bool {
	w := i / 64
	for uint64(len(*b)) <= w {
		*b = append(*b, 0)
	}
	m := uint64(1) << (i % 64)
	had := (*b)[w]&m != 0
	(*b)[w] |= m
	return had
}

// has reports whether i is present.
func (b bitset) has(i uint64) bool {
	w := i / 64
	return w < uint64(len(b)) && b[w]&(1<<(i%64)) != 0
}

// count returns the number of members.
func (b bitset) count() int64 {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// word returns the w-th word, zero past the end.
func (b bitset) word(w int) uint64 {
	if w < len(b) {
		return b[w]
	}
	return 0
}

// tally is what one reader (one shard's poller) saw. It is not safe for
// concurrent use; Reconcile merges the tallies of every reader.
type tally struct {
	seen       []bitset // by producer worker: sequences read
	next       []uint64 // by producer worker: 1 + the highest first-try sequence read
	duplicate  int64
	corrupt    int64
	outOfOrder int64
	records    int64 // records read, corrupt ones included
	firstErr   string
}

func newTally(workers int) *tally {
	return &tally{seen: make([]bitset, workers), next: make([]uint64, workers)}
}

// add accounts for one record read from a shard, in read order.
func (t *tally) add(d decoded, err error) {
	t.records++
	w := int(d.id >> workerShift)
	if err == nil && w >= len(t.seen) {
		err = errUnknownWorker
	}
	if err != nil {
		t.corrupt++
		if t.firstErr == "" {
			t.firstErr = err.Error()
		}
		return
	}
	seq := d.id & seqMask
	if t.seen[w].set(seq) {
		t.duplicate++
		return
	}
	if d.flags&flagRetried != 0 {
		return // resent records may land after later ones
	}
	if seq+1 <= t.next[w] {
		t.outOfOrder++
	} else {
		t.next[w] = seq + 1
	}
}

type benchError string

func (e benchError) Error() string { return string(e) }

const errUnknownWorker = benchError("id names no producer worker of this run")

// Check is the correctness account of a run that reads what it wrote.
type Check struct {
	Acked      int64  `json:"acked"`        // records the server acknowledged
	Read       int64  `json:"read"`         // records read, duplicates and corrupt ones included
	Missing    int64  `json:"missing"`      // acknowledged, never read
	Duplicate  int64  `json:"duplicate"`    // read more than once
	Corrupt    int64  `json:"corrupt"`      // bad size, magic or checksum
	OutOfOrder int64  `json:"out_of_order"` // read after a later record of the same worker in the same shard
	Unacked    int64  `json:"unacked"`      // read but never acknowledged (a timed-out put); not an error
	FirstError string `json:"first_error,omitempty"`
}

// OK reports whether the account is clean.
func (c *Check) OK() bool {
	return c.Missing == 0 && c.Duplicate == 0 && c.Corrupt == 0 && c.OutOfOrder == 0
}

// reconcile merges the readers' tallies against the producers' acknowledged
// sets (indexed by worker).
func reconcile(acked []bitset, tallies []*tally) Check {
	var c Check
	for _, t := range tallies {
		c.Read += t.records
		c.Duplicate += t.duplicate
		c.Corrupt += t.corrupt
		c.OutOfOrder += t.outOfOrder
		if c.FirstError == "" {
			c.FirstError = t.firstErr
		}
	}
	for w, a := range acked {
		c.Acked += a.count()
		words := len(a)
		for _, t := range tallies {
			words = max(words, len(t.seen[w]))
		}
		for i := range words {
			var union uint64
			for _, t := range tallies {
				s := t.seen[w].word(i)
				c.Duplicate += int64(bits.OnesCount64(union & s)) // same record in two shards
				union |= s
			}
			aw := a.word(i)
			c.Missing += int64(bits.OnesCount64(aw &^ union))
			c.Unacked += int64(bits.OnesCount64(union &^ aw))
		}
	}
	return c
}
