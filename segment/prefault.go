package segment

import (
	"sync/atomic"

	"github.com/tysonmote/gommap"
	"golang.org/x/sys/unix"
)

// prefaultChunk is how much one madvise call populates.
const prefaultChunk = 1 << 20

// prefaulter populates the pages of an active segment's mapping ahead of
// the writer, on its own goroutine, so that Append copies into pages that
// are already mapped instead of taking one page fault per 4 KiB. It uses
// madvise(MADV_POPULATE_WRITE), which takes the same faults in bulk; on a
// kernel without it (before Linux 5.14) it stops and appends fault as usual.
// It stays at most Options.PrefaultBytes ahead of the published end, so an
// idle segment dirties no more page cache than that.
type prefaulter struct {
	mapping gommap.MMap
	target  atomic.Int64 // populate up to here (the writer raises it)
	upTo    int64        // populated below this; owned by the goroutine
	bell    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// startPrefault starts populating m from off on.
func startPrefault(m gommap.MMap, off, ahead int64) *prefaulter {
	p := &prefaulter{
		mapping: m,
		upTo:    off &^ (1<<12 - 1),
		bell:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.want(off + ahead)
	go p.run()
	return p
}

// want asks for the mapping to be populated up to off. Called by the writer;
// it never blocks.
func (p *prefaulter) want(off int64) {
	if off > int64(len(p.mapping)) {
		off = int64(len(p.mapping))
	}
	if off <= p.target.Load() {
		return
	}
	p.target.Store(off)
	select {
	case p.bell <- struct{}{}:
	default:
	}
}

func (p *prefaulter) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.bell:
		}
		for p.upTo < p.target.Load() {
			select {
			case <-p.stop:
				return
			default:
			}
			end := min(p.upTo+prefaultChunk, int64(len(p.mapping)))
			if err := unix.Madvise(p.mapping[p.upTo:end], unix.MADV_POPULATE_WRITE); err != nil {
				return // unsupported, or the mapping is going away: appends fault as usual
			}
			p.upTo = end
		}
	}
}

// halt stops the goroutine and waits for it, so the mapping can be
// protected or unmapped. It is idempotent.
func (p *prefaulter) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}
