package listener

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// temporaryAcceptError reports whether an accept error is worth retrying:
// the process or the system is out of file descriptors, buffers or memory,
// a connection was aborted before it was accepted, or a timeout. Anything
// else (the listener closed) ends the accept loop.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// acceptBackoff paces an accept loop after temporary errors, as net/http's
// does: 5 ms, doubling up to 1 s, back to nothing after a success.
type acceptBackoff struct {
	delay    time.Duration
	lastWarn time.Time
}

// wait sleeps for the next delay, or until done is closed (false).
func (b *acceptBackoff) wait(done <-chan struct{}) bool {
	b.delay = min(max(2*b.delay, 5*time.Millisecond), time.Second)
	t := time.NewTimer(b.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// warn reports whether a warning is due: at most one a second, so a
// flood of refused connections does not flood the log too.
func (b *acceptBackoff) warn(now time.Time) bool {
	if now.Sub(b.lastWarn) < time.Second {
		return false
	}
	b.lastWarn = now
	return true
}

func (b *acceptBackoff) reset() { b.delay = 0 }
