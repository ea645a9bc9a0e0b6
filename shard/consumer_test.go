package shard

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestConsumerRegisterListDeregisterAndReopen(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	o := testOptions(t, dir, c)
	s := mustOpen(t, o)
	st := mustCreate(t, s, "fan", 1)

	a, err := st.RegisterConsumer("app-a")
	if err != nil {
		t.Fatal(err)
	}
	wantARN := fmt.Sprintf("%s/consumer/app-a:%d", st.ARN(), c.Now().Unix())
	if a.ARN != wantARN || a.Status != ConsumerActive || a.StreamARN != st.ARN() || !a.CreatedAt.Equal(c.Now().Truncate(time.Millisecond)) {
		t.Fatalf("registered %+v, want ARN %s ACTIVE", a, wantARN)
	}
	if _, err := st.RegisterConsumer("app-a"); !errors.Is(err, ErrConsumerExists) {
		t.Fatalf("second register: %v, want ErrConsumerExists", err)
	}
	c.Advance(time.Second)
	if _, err := st.RegisterConsumer("app-b"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddConsumerTags("app-b", map[string]string{"team": "x"}); err != nil {
		t.Fatal(err)
	}

	// Consumers and their tags survive a reopen.
	s.Close()
	s = mustOpen(t, o)
	st, err = s.Stream("fan")
	if err != nil {
		t.Fatal(err)
	}
	got := st.Consumers()
	if len(got) != 2 || got[0].Name != "app-a" || got[1].Name != "app-b" || got[0].ARN != wantARN {
		t.Fatalf("after reopen: %+v", got)
	}
	if tags, err := st.ConsumerTags("app-b"); err != nil || tags["team"] != "x" {
		t.Fatalf("tags %v, %v", tags, err)
	}
	if err := st.RemoveConsumerTags("app-b", []string{"team"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := st.ConsumerTags("app-b"); len(tags) != 0 {
		t.Fatalf("tags after remove: %v", tags)
	}

	if _, err := st.DeregisterConsumer("app-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Consumer("app-a"); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("Consumer after deregister: %v", err)
	}
	if _, err := st.DeregisterConsumer("app-a"); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("second deregister: %v", err)
	}
	// The name is free again, under a new ARN.
	c.Advance(time.Second)
	again, err := st.RegisterConsumer("app-a")
	if err != nil || again.ARN == wantARN {
		t.Fatalf("re-register: %+v, %v", again, err)
	}
}

func TestConsumerStatusDelaysAndLimits(t *testing.T) {
	c := newClock()
	o := testOptions(t, t.TempDir(), c)
	o.CreateDelay = time.Second
	o.DeleteDelay = 2 * time.Second
	s := mustOpen(t, o)
	st := mustCreate(t, s, "lim", 1)
	c.Advance(o.CreateDelay) // the stream itself is ACTIVE now

	for i := 0; i < MaxCreatingConsumers; i++ {
		info, err := st.RegisterConsumer(fmt.Sprintf("c%d", i))
		if err != nil || info.Status != ConsumerCreating {
			t.Fatalf("register c%d: %+v, %v", i, info, err)
		}
	}
	if _, err := st.RegisterConsumer("one-too-many-creating"); !errors.Is(err, ErrTooManyConsumers) {
		t.Fatalf("sixth CREATING: %v", err)
	}
	c.Advance(time.Second)
	if info, _ := st.Consumer("c0"); info.Status != ConsumerActive {
		t.Fatalf("after CreateDelay: %s", info.Status)
	}
	for i := MaxCreatingConsumers; i < MaxConsumers; i++ {
		if _, err := st.RegisterConsumer(fmt.Sprintf("c%d", i)); err != nil {
			t.Fatalf("register c%d: %v", i, err)
		}
		if i%4 == 0 {
			c.Advance(time.Second)
		}
	}
	if _, err := st.RegisterConsumer("c20"); !errors.Is(err, ErrTooManyConsumers) {
		t.Fatalf("21st consumer: %v", err)
	}
	if _, err := st.DeregisterConsumer("c0"); err != nil {
		t.Fatal(err)
	}
	if info, err := st.Consumer("c0"); err != nil || info.Status != ConsumerDeleting {
		t.Fatalf("during DeleteDelay: %+v, %v", info, err)
	}
	// A DELETING consumer still counts against the limit and holds its name.
	if _, err := st.RegisterConsumer("c0"); !errors.Is(err, ErrConsumerExists) {
		t.Fatalf("register while DELETING: %v", err)
	}
	c.Advance(2 * time.Second)
	if _, err := st.Consumer("c0"); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("after DeleteDelay: %v", err)
	}
	if n := len(st.Consumers()); n != MaxConsumers-1 {
		t.Fatalf("%d consumers, want %d", n, MaxConsumers-1)
	}
	if _, err := st.RegisterConsumer("c0"); err != nil {
		t.Fatalf("register after deletion completed: %v", err)
	}
}
