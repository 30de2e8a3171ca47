package limiter

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func work(d time.Duration, running, peak *atomic.Int32) func() error {
	return func() error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(d) // BLOCK[sleep] the work itself
		running.Add(-1)
		return nil
	}
}

func TestCapacity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity int64
		weight   int64
		want     int32
	}{
		{"one-at-a-time", 2, 2, 1},
		{"pairs", 4, 2, 2},
		{"all", 8, 1, 6},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) { // BLOCK[chan receive] until the subtest calls Parallel
			t.Parallel() // BLOCK[chan receive] parallel subtests wait for TestCapacity to return WAKE[chan send] Parallel lets t.Run return
			l := New(tc.capacity)
			var running, peak atomic.Int32
			fns := make(map[string]func() error)
			for _, key := range []string{"a", "b", "c", "d", "e", "f"} {
				fns[key] = work(2*time.Millisecond, &running, &peak)
			}
			if err := l.Batch(context.Background(), tc.weight, fns); err != nil {
				t.Fatal(err)
			}
			if got := peak.Load(); got != tc.want {
				t.Errorf("peak %d running at once, want %d", got, tc.want)
			}
		})
	}
}

func TestSameKey(t *testing.T) {
	l := New(10)
	var running, peak atomic.Int32
	done := make(chan error)
	for i := 0; i < 4; i++ {
		go func() {
			done <- l.Do(context.Background(), "shared", 1, work(time.Millisecond, &running, &peak)) // WAKE[chan send]
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil { // BLOCK[chan receive] waiting for the four calls
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("%d calls ran at once on one key", p)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	l := New(3)
	Hold(t, l, "neighbour", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := l.Do(ctx, "mine", 2, func() error { return nil }); err == nil {
		t.Fatal("Do ran without capacity")
	}
}
