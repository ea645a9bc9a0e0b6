package limits

import "time"

// Allowance is one subscription's push budget under the limits
// emulator. AWS gives each consumer 2 MiB/s per shard for its pushes,
// separate from the shard's shared GetRecords budget, so the emulator's
// per-shard bucket (Limiter) is not charged: each subscription (one
// consumer and one shard; the takeover rule allows one at a time) keeps its
// own token bucket at Limits.ReadBytesPerSecond (AWS's 2 MiB/s by
// default), holding up to one second of it. An event may overdraw the
// bucket (an event carries up to 1 MiB of records); the next one waits until the
// debt is paid, so a backlog flows at the rate on average. It is used by
// the subscription's pump goroutine only.
type Allowance struct {
	bytes float64 // may be negative: owed
	last  time.Time
}

// Delay refills the allowance for the time since the last call and returns
// how long the next event must wait, zero when it may go now. rate is in
// bytes per second.
func (a *Allowance) Delay(now time.Time, rate int) time.Duration {
	if a.last.IsZero() {
		a.bytes, a.last = float64(rate), now
	}
	if dt := now.Sub(a.last).Seconds(); dt > 0 {
		a.bytes = min(a.bytes+dt*float64(rate), float64(rate))
		a.last = now
	}
	if a.bytes >= 0 {
		return 0
	}
	return time.Duration(-a.bytes / float64(rate) * float64(time.Second))
}

// Charge takes n bytes of record data pushed.
func (a *Allowance) Charge(n int) { a.bytes -= float64(n) }
