package segment

import (
	"sync"
	"testing"
)

// TestConcurrentAppendRead runs one appender and several readers that read
// up to the published end and check every record; run with -race.
func TestConcurrentAppendRead(t *testing.T) {
	o := testOptions(t)
	o.MaxSegmentBytes = 8 << 20
	s := mustCreate(t, t.TempDir(), 0, o)
	defer s.Close()
	const total, batch = 20000, 100
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			var buf []Record
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				next := s.NextSeq()
				if next == 0 {
					continue
				}
				from := uint64(i*7919+r) % next
				var err error
				buf, err = s.Read(from, 50, 0, buf[:0])
				if err != nil {
					t.Errorf("Read(%d): %v", from, err)
					return
				}
				if len(buf) == 0 || buf[0].Seq != from {
					t.Errorf("Read(%d) below NextSeq %d: %d records", from, next, len(buf))
					return
				}
				for j, rec := range buf {
					if !sameRecord(rec, record(from+uint64(j), 64)) {
						t.Errorf("record %d differs", rec.Seq)
						return
					}
				}
				if _, _, err := s.SeekTime(buf[0].ArrivalMs); err != nil {
					t.Errorf("SeekTime: %v", err)
					return
				}
			}
		}(r)
	}
	// Group commit: Sync runs concurrently with Append.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := s.Sync(); err != nil {
				t.Errorf("Sync: %v", err)
				return
			}
		}
	}()
	for seq := uint64(0); seq < total; seq += batch {
		mustAppend(t, s, records(seq, batch, 64))
	}
	close(done)
	wg.Wait()
	checkAll(t, s, records(0, total, 64))
}
