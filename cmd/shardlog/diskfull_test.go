package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestDiskFull runs a real shardlog on a 10 MiB tmpfs until the disk is full.
// Writes must then fail with an HTTP answer (InternalFailure 500 or
// ServiceUnavailable 503 with a JSON body), never a crash, a hang or SIGBUS
// (segments are pre-allocated, so the mapping never touches a page the file
// system cannot back); metadata changes fail the same way; once space is
// freed writes resume; and every acknowledged record survives a restart.
// It needs to mount a tmpfs (root); elsewhere it skips.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=10m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); run as root to test a full disk", err)
	}
	t.Cleanup(func() { // registered first, so it runs after the daemon stopped
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "data")
	cfg := "storage:\n  fsync: always\n  segment_bytes: 2097152\n"
	d := startDaemonConfig(t, dir, cfg)
	c := newAPIClient(d.Endpoint)
	c.createStream(t, "full", 1)

	acked := map[string][]byte{} // sequence number -> data
	put := func(i int) error {
		data := append([]byte(fmt.Sprintf("rec-%05d|", i)), bytes.Repeat([]byte{byte(i)}, 64<<10)...)
		var out struct{ SequenceNumber string }
		err := c.call("PutRecord", map[string]any{"StreamName": "full", "Data": data, "PartitionKey": "k"}, &out)
		if err == nil {
			acked[out.SequenceNumber] = data
		}
		return err
	}
	wantFullError := func(what string, err error) {
		t.Helper()
		he, ok := err.(*httpError)
		if !ok || (he.Status != 500 && he.Status != 503) || he.Type == "" {
			t.Fatalf("%s on a full disk: %v, want a 500 or 503 JSON error", what, err)
		}
		t.Logf("%s on a full disk → %d %s", what, he.Status, he.Type)
	}

	i, full := 0, 0
	for ; i < 400 && full < 3; i++ {
		if err := put(i); err != nil {
			wantFullError(fmt.Sprintf("PutRecord %d", i), err)
			full++
		}
	}
	if full == 0 {
		t.Fatalf("%d records of 64 KiB fit a 10 MiB tmpfs", i)
	}
	t.Logf("disk full after %d acknowledged records", len(acked))
	// A new stream needs metadata only (its shards get files on their
	// first write), which may still fit.
	wantStreams := []string{"full"}
	if err := c.call("CreateStream", map[string]any{"StreamName": "more", "ShardCount": 4}, nil); err != nil {
		wantFullError("CreateStream", err)
	} else {
		t.Log("CreateStream succeeded on a full disk")
		wantStreams = append(wantStreams, "more")
	}
	c.healthy(t, "a full disk")
	if !d.alive() {
		t.Fatal("daemon exited on a full disk")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 5; j, i = j+1, i+1 {
		if err := put(i); err != nil {
			t.Fatalf("PutRecord after freeing space: %v", err)
		}
	}

	d.stop(t)
	d = startDaemonConfig(t, dir, cfg)
	c = newAPIClient(d.Endpoint)
	got := c.readAll(t, "full", "shardId-000000000000")
	found := 0
	for _, r := range got {
		if want, ok := acked[r.SequenceNumber]; ok {
			if !bytes.Equal(want, r.Data) {
				t.Fatalf("record %s differs after restart", r.SequenceNumber)
			}
			found++
		}
	}
	if found != len(acked) {
		t.Fatalf("after restart %d of %d acknowledged records", found, len(acked))
	}
	t.Logf("after restart all %d acknowledged records are there (%d read)", found, len(got))
	var list struct{ StreamNames []string }
	c.mustCall(t, "ListStreams", map[string]any{}, &list)
	if !slices.Equal(list.StreamNames, wantStreams) {
		t.Errorf("streams after restart: %v, want %v: a stream whose create failed must be gone, one acknowledged must stay", list.StreamNames, wantStreams)
	}
}
