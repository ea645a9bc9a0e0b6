package segment

import (
	"os"
	"sync/atomic"

	"github.com/tysonmote/gommap"
	"golang.org/x/sys/unix"
)

// prefaultChunk is how much one madvise call populates.
const prefaultChunk = 1 << 20

// pageSize is the unit madvise works in.
var pageSize = int64(os.Getpagesize())

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
	upTo    atomic.Int64 // populated below this; written by the goroutine only
	bell    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// startPrefault starts populating m from off up to target, which must not
// pass the end of the file (populating past it fails and stops the
// prefaulter).
func startPrefault(m gommap.MMap, off, target int64) *prefaulter {
	p := &prefaulter{
		mapping: m,
		bell:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.upTo.Store(off &^ (pageSize - 1))
	p.want(target)
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
		for up := p.upTo.Load(); up < p.target.Load(); up = p.upTo.Load() {
			select {
			case <-p.stop:
				return
			default:
			}
			// Whole pages: madvise wants an aligned start, and the page that
			// holds the target's last byte is backed by the file.
			end := min(up+prefaultChunk, (p.target.Load()+pageSize-1)&^(pageSize-1), int64(len(p.mapping)))
			if err := unix.Madvise(p.mapping[up:end], unix.MADV_POPULATE_WRITE); err != nil {
				return // unsupported, or the mapping is going away: appends fault as usual
			}
			p.upTo.Store(end)
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
