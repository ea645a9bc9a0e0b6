package limits

import (
	"math"
	"testing"
	"time"
)

// maxEventBytes is the most record data one SubscribeToShard event carries.
const maxEventBytes = 1 << 20

// TestLimiterRates drives one shard's buckets with a simulated clock, as
// fast as they admit, and checks the sustained rates against AWS's
// documented ones: 1000 records/s or 1 MiB/s written, 5 calls/s or 2 MiB/s
// read.
func TestLimiterRates(t *testing.T) {
	sh := new(int) // a shard: any comparable key
	l := (&Limits{Throughput: true}).WithDefaults()
	within := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.1*want {
			t.Errorf("%s: %.1f/s, want %.1f/s within 10%%", what, got, want)
		} else {
			t.Logf("%s: %.1f/s (documented %.1f/s)", what, got, want)
		}
	}
	// run offers try() every step for 60 simulated seconds and returns the
	// admitted units per second after the first 2 (the initial burst).
	run := func(step time.Duration, try func(lm *Limiter) (bool, int)) float64 {
		now := time.Unix(1700000000, 0)
		lm := NewLimiter(func() time.Time { return now })
		total := 0
		for t0 := now; now.Sub(t0) < 60*time.Second; now = now.Add(step) {
			for i := 0; i < 1000; i++ {
				ok, n := try(lm)
				if !ok {
					break
				}
				if now.Sub(t0) >= 2*time.Second {
					total += n
				}
			}
		}
		return float64(total) / 58
	}
	within("write records (100 B each)", run(time.Millisecond, func(lm *Limiter) (bool, int) {
		return lm.AdmitWrite(sh, 100, &l), 1
	}), AWSWriteRecordsPerSecond)
	within("write bytes (10 KiB records)", run(time.Millisecond, func(lm *Limiter) (bool, int) {
		return lm.AdmitWrite(sh, 10<<10, &l), 10 << 10
	}), AWSWriteBytesPerSecond)
	within("write bytes (4 MiB records, burst allowance)", run(10*time.Millisecond, func(lm *Limiter) (bool, int) {
		return lm.AdmitWrite(sh, 4<<20, &l), 4 << 20
	}), AWSWriteBytesPerSecond)
	within("GetRecords calls (small reads)", run(time.Millisecond, func(lm *Limiter) (bool, int) {
		if !lm.AdmitRead(sh, &l) {
			return false, 0
		}
		lm.ChargeRead(sh, 1000, &l)
		return true, 1
	}), AWSReadCallsPerSecond)
	within("GetRecords bytes (10 MiB reads)", run(time.Millisecond, func(lm *Limiter) (bool, int) {
		if !lm.AdmitRead(sh, &l) {
			return false, 0
		}
		lm.ChargeRead(sh, 10<<20, &l)
		return true, 10 << 20
	}), AWSReadBytesPerSecond)
}

// TestPushAllowanceRate pushes 1 MiB events as fast as a subscription's
// allowance lets them go, on a simulated clock, and checks the sustained
// rate is AWS's 2 MiB/s per consumer-shard.
func TestPushAllowanceRate(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var a Allowance
	pushed := 0
	for t0 := now; now.Sub(t0) < 60*time.Second; {
		if d := a.Delay(now, AWSReadBytesPerSecond); d > 0 {
			now = now.Add(d)
			continue
		}
		a.Charge(maxEventBytes)
		if now.Sub(t0) >= 2*time.Second {
			pushed += maxEventBytes
		}
	}
	rate := float64(pushed) / 58
	if math.Abs(rate-AWSReadBytesPerSecond) > 0.05*AWSReadBytesPerSecond {
		t.Fatalf("sustained push rate %.0f B/s, want %d within 5%%", rate, AWSReadBytesPerSecond)
	}
}
