package main

import (
	"bufio"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCrashPointSweep kills a real shardlog at every durable step of a
// workload, one run per step, and checks what a restart serves.
//
// A binary built with -tags crashpoint counts every durable step of the
// storage (each segment create, allocate, header sync, fsync, rename and
// directory sync; each seal's sync, truncate, fsync and index seal; each
// reservation, append and unlink; each metadata write, fsync, rename and
// directory sync; stream create and delete renames; shard directories) and
// SIGKILLs itself just before step SHARDLOG_CRASH_AT. The workload goes
// through stream creation, appends that roll segments, consumer
// registration, a split, a merge, a second stream created, written and
// deleted, and a retention change. A first run with SHARDLOG_CRASH_TRACE
// lists the steps; then, for every step n, a fresh data directory runs the
// workload until the kill at n, a normal restart must serve every
// acknowledged record byte for byte under the shard and sequence number it
// was acknowledged with, exactly once, in order, take a new record above
// every earlier sequence number, keep every acknowledged metadata change,
// answer no 5xx, and leave a data directory that fsck finds clean.
func TestCrashPointSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep restarts the daemon once per durable step")
	}
	if raceEnabled {
		// Its daemons are not race builds; what -race would watch is the
		// test's own JSON, three times slower. make test runs it without.
		t.Skip("make test runs the sweep without -race")
	}
	bin := crashpointBinary(t)
	const cfg = "storage:\n  fsync: never\n  segment_bytes: 2097152\n"

	trace := filepath.Join(t.TempDir(), "trace")
	d, ok := startCrashDaemon(t, bin, filepath.Join(t.TempDir(), "data"), cfg, "SHARDLOG_CRASH_TRACE="+trace)
	if !ok {
		t.Fatal("the tracing run exited before serving")
	}
	w := &sweepWorkload{seed: 1}
	if err := w.run(newAPIClient(d.Endpoint)); err != nil {
		t.Fatalf("workload without a crash: %v", err)
	}
	d.stop(t)
	steps := readTrace(t, trace)
	if len(steps) < 50 {
		t.Fatalf("the workload reached only %d durable steps: %v", len(steps), steps)
	}
	kinds := map[string]int{}
	for _, op := range steps {
		kinds[op]++
	}
	t.Logf("%d durable steps in the workload: %v", len(steps), kinds)

	var acked, reached, killedAtStart int
	for n := 1; n <= len(steps); n++ {
		dir := filepath.Join(t.TempDir(), "data")
		d, serving := startCrashDaemon(t, bin, dir, cfg, fmt.Sprintf("SHARDLOG_CRASH_AT=%d", n))
		w := &sweepWorkload{seed: uint64(n)}
		switch {
		case !serving:
			killedAtStart++
		default:
			err := w.run(newAPIClient(d.Endpoint))
			var he *httpError
			if errors.As(err, &he) {
				t.Fatalf("step %d (%s): the daemon answered %v before dying", n, steps[n-1], err)
			}
			if err == nil {
				d.kill(t) // the step was not reached this time (timing of background seals)
				break
			}
			d.wait(t)
			reached++
		}
		if !w.completed && !d.killed() {
			t.Fatalf("step %d (%s): the daemon exited, but not by the kill", n, steps[n-1])
		}
		acked += len(w.acked)
		w.verify(t, fmt.Sprintf("step %d (%s)", n, steps[n-1]), bin, dir, cfg)
	}
	t.Logf("%d kill points: %d during start-up, %d in the workload, %d not reached in their run (background seals ordered differently); %d acknowledged records checked, lost 0, duplicated 0, sequence numbers reused 0",
		len(steps), killedAtStart, reached, len(steps)-killedAtStart-reached, acked)
}

// sweepWorkload is the sequential workload of the crash-point sweep and
// what the daemon acknowledged of it before dying.
type sweepWorkload struct {
	seed      uint64
	acked     map[string]ackedRecord // record id -> where it was acknowledged
	done      map[string]bool        // metadata operations acknowledged
	inflight  string                 // the operation the daemon died in
	completed bool
}

// run performs the workload until the daemon stops answering. It returns
// nil when every step was acknowledged, the transport error when the
// daemon died, and an *httpError for any refused step.
func (w *sweepWorkload) run(c *apiClient) error {
	w.acked, w.done = map[string]ackedRecord{}, map[string]bool{}
	var seed [32]byte
	seed[0] = byte(w.seed)
	rng := rand.NewChaCha8(seed)
	put := func(stream string, batch int) func() error {
		return func() error { return w.put(c, rng, stream, batch) }
	}
	type step struct {
		name string
		do   func() error
	}
	steps := []step{
		{"create a", func() error { return c.call("CreateStream", map[string]any{"StreamName": "a", "ShardCount": 1}, nil) }},
	}
	for b := 0; b < 8; b++ { // 8 × 300 × 2 KiB: rolls the 2 MiB segments twice
		steps = append(steps, step{fmt.Sprintf("put a %d", b), put("a", b)})
	}
	steps = append(steps,
		step{"register consumer", func() error {
			return c.call("RegisterStreamConsumer", map[string]any{"StreamARN": streamARN("a"), "ConsumerName": "c1"}, nil)
		}},
		step{"split", func() error {
			return c.call("SplitShard", map[string]any{"StreamName": "a", "ShardToSplit": "shardId-000000000000",
				"NewStartingHashKey": "170141183460469231731687303715884105728"}, nil)
		}},
		step{"put a after split", put("a", 8)},
		step{"merge", func() error {
			return c.call("MergeShards", map[string]any{"StreamName": "a", "ShardToMerge": "shardId-000000000001",
				"AdjacentShardToMerge": "shardId-000000000002"}, nil)
		}},
		step{"put a after merge", put("a", 9)},
		step{"create b", func() error { return c.call("CreateStream", map[string]any{"StreamName": "b", "ShardCount": 2}, nil) }},
		step{"put b", put("b", 10)},
		step{"delete b", func() error { return c.call("DeleteStream", map[string]any{"StreamName": "b"}, nil) }},
		step{"retention", func() error {
			return c.call("IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "a", "RetentionPeriodHours": 48}, nil)
		}},
	)
	for _, s := range steps {
		w.inflight = s.name
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		w.done[s.name] = true
	}
	w.inflight, w.completed = "", true
	return nil
}

func streamARN(name string) string { return "arn:aws:kinesis:us-east-1:000000000000:stream/" + name }

// put sends one PutRecords of 300 records of about 2 KiB, each carrying a
// unique id, and remembers the acknowledged ones.
func (w *sweepWorkload) put(c *apiClient, rng *rand.ChaCha8, stream string, batch int) error {
	entries := make([]putEntry, 300)
	ids := make([]string, len(entries))
	for i := range entries {
		ids[i] = fmt.Sprintf("%s-b%d-i%d", stream, batch, i)
		data := make([]byte, 1500+rng.Uint64()%1000)
		_, _ = rng.Read(data)
		copy(data, ids[i]+"|")
		entries[i] = putEntry{Data: data, PartitionKey: fmt.Sprintf("pk-%d", rng.Uint64())}
	}
	var out putRecordsOut
	if err := c.call("PutRecords", map[string]any{"StreamName": stream, "Records": entries}, &out); err != nil {
		return err
	}
	for i, r := range out.Records {
		if r.ErrorCode == "" {
			w.acked[ids[i]] = ackedRecord{data: entries[i].Data, shard: r.ShardId, seq: r.SequenceNumber}
		}
	}
	return nil
}

// verify restarts shardlog on dir, with no crash point, and checks it
// against what was acknowledged, then stops it and runs fsck.
func (w *sweepWorkload) verify(t *testing.T, point, bin, dir, cfg string) {
	t.Helper()
	d, ok := startCrashDaemon(t, bin, dir, cfg)
	if !ok {
		t.Fatalf("%s: the restart exited before serving", point)
	}
	c := newAPIClient(d.Endpoint)
	c.healthy(t, point)
	if w.done["create a"] {
		w.verifyStream(t, point, c, "a")
	}
	if w.done["register consumer"] {
		var out struct {
			Consumers []struct{ ConsumerName string }
		}
		c.mustCall(t, "ListStreamConsumers", map[string]any{"StreamARN": streamARN("a")}, &out)
		if len(out.Consumers) != 1 || out.Consumers[0].ConsumerName != "c1" {
			t.Fatalf("%s: acknowledged consumer missing after restart: %+v", point, out.Consumers)
		}
	}
	if w.done["split"] && len(c.shardIDs(t, "a")) < 3 {
		t.Fatalf("%s: acknowledged split missing after restart", point)
	}
	if w.done["delete b"] {
		var out struct{ StreamDescriptionSummary struct{ StreamStatus string } }
		err := c.call("DescribeStreamSummary", map[string]any{"StreamName": "b"}, &out)
		var he *httpError
		if err == nil && out.StreamDescriptionSummary.StreamStatus != "DELETING" || err != nil && (!errors.As(err, &he) || he.Type != "ResourceNotFoundException") {
			t.Fatalf("%s: acknowledged delete of b: %v %+v", point, err, out)
		}
	} else if w.done["create b"] && w.inflight != "delete b" { // an unacknowledged delete may have happened
		w.verifyStream(t, point, c, "b")
	}
	if w.done["retention"] {
		var out struct {
			StreamDescriptionSummary struct{ RetentionPeriodHours int }
		}
		c.mustCall(t, "DescribeStreamSummary", map[string]any{"StreamName": "a"}, &out)
		if out.StreamDescriptionSummary.RetentionPeriodHours != 48 {
			t.Fatalf("%s: acknowledged retention change lost: %+v", point, out)
		}
	}
	d.stop(t)
	// The binary's fsck, not the test's: much faster under -race.
	if out, err := exec.Command(bin, "fsck", dir).CombinedOutput(); err != nil {
		t.Fatalf("%s: fsck after the restart: %v\n%s", point, err, out)
	}
}

// verifyStream reads every shard of stream and checks the acknowledged
// records of it, then puts one more record into each open shard.
func (w *sweepWorkload) verifyStream(t *testing.T, point string, c *apiClient, stream string) {
	t.Helper()
	found := map[string]bool{}
	last := map[string]*big.Int{}
	for _, shardID := range c.shardIDs(t, stream) {
		var prev *big.Int
		for _, r := range c.readAll(t, stream, shardID) {
			seq, ok := new(big.Int).SetString(r.SequenceNumber, 10)
			if !ok || prev != nil && seq.Cmp(prev) <= 0 {
				t.Fatalf("%s: %s %s: sequence number %s out of order", point, stream, shardID, r.SequenceNumber)
			}
			prev = seq
			id, _, _ := strings.Cut(string(r.Data), "|")
			if found[id] {
				t.Fatalf("%s: record %s read twice", point, id)
			}
			found[id] = true
			if a, ok := w.acked[id]; ok && (a.shard != shardID || a.seq != r.SequenceNumber || string(a.data) != string(r.Data)) {
				t.Fatalf("%s: record %s read from %s at %s, acknowledged on %s at %s (data equal: %v)",
					point, id, shardID, r.SequenceNumber, a.shard, a.seq, string(a.data) == string(r.Data))
			}
		}
		last[shardID] = prev
	}
	for id := range w.acked {
		if strings.HasPrefix(id, stream+"-") && !found[id] {
			t.Fatalf("%s: acknowledged record %s lost", point, id)
		}
	}
	// A new record lands above every sequence number its shard showed.
	var out putRecordsOut
	c.mustCall(t, "PutRecords", map[string]any{"StreamName": stream, "Records": []putEntry{{Data: []byte("after"), PartitionKey: "after"}}}, &out)
	r := out.Records[0]
	seq, _ := new(big.Int).SetString(r.SequenceNumber, 10)
	if prev := last[r.ShardId]; r.ErrorCode != "" || seq == nil || prev != nil && seq.Cmp(prev) <= 0 {
		t.Fatalf("%s: record put after the restart: %+v, after %v", point, r, prev)
	}
}

// startCrashDaemon starts the crash-point build on dir with extra
// environment. It returns ok=false when the daemon died before serving (a
// kill point during start-up).
func startCrashDaemon(t *testing.T, bin, dir, cfg string, env ...string) (*daemon, bool) {
	t.Helper()
	return launchDaemon(t, launch{bin: bin, dir: dir, cfg: cfg, env: env})
}

// wait waits for a daemon that is killing itself.
func (d *daemon) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-d.exited:
		d.exited <- err
	case <-time.After(20 * time.Second):
		t.Fatal("shardlog did not die within 20s of its crash point")
	}
	d.stopped = true
}

// killed reports whether the process ended by SIGKILL.
func (d *daemon) killed() bool {
	err := <-d.exited
	d.exited <- err
	var ee *exec.ExitError
	return errors.As(err, &ee) && strings.Contains(ee.String(), "killed")
}

// readTrace returns the steps a tracing run listed, in order.
func readTrace(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var n int
		var op string
		if _, err := fmt.Sscanf(sc.Text(), "%d %s", &n, &op); err != nil || n != len(steps)+1 {
			t.Fatalf("trace line %q", sc.Text())
		}
		steps = append(steps, op)
	}
	return steps
}

var (
	crashBuildOnce sync.Once
	crashBinPath   string
	crashBuildErr  error
)

// crashpointBinary builds shardlog with -tags crashpoint, once per test
// binary (without -race: the sweep starts it hundreds of times).
func crashpointBinary(t *testing.T) string {
	t.Helper()
	crashBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shardlog-crashpoint-")
		if err != nil {
			crashBuildErr = err
			return
		}
		crashBinPath = filepath.Join(dir, "shardlog")
		out, err := exec.Command("go", "build", "-tags", "crashpoint", "-o", crashBinPath, ".").CombinedOutput()
		if err != nil {
			crashBuildErr = fmt.Errorf("go build -tags crashpoint: %v\n%s", err, out)
		}
	})
	if crashBuildErr != nil {
		t.Fatal(crashBuildErr)
	}
	return crashBinPath
}
