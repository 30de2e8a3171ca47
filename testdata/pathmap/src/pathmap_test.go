package main

import (
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

const delay = 3 * time.Millisecond

// TestFanOut runs first (not parallel): the parallel tests below wait in
// t.Parallel until it is done.
func TestFanOut(t *testing.T) {
	var n atomic.Int32
	t.Run("workers", func(t *testing.T) { // BLOCK[chan receive] the parent test waits for its subtest
		fanOut(4, func(i int) {
			time.Sleep(time.Duration(i+1) * delay)
			n.Add(1)
		})
	})
	if n.Load() != 4 {
		t.Fatalf("%d workers ran", n.Load())
	}
}

func TestEcho(t *testing.T) {
	t.Parallel() // BLOCK[chan receive] waits for the sequential tests
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveEcho(ln, delay)
	time.Sleep(delay)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		if _, err := roundTrip(c, []byte("ping")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel() // BLOCK[chan receive] waits for the sequential tests
	r := NewRegistry[string, int]()
	done := make(chan int)
	for i := 0; i < 4; i++ {
		go func() { done <- r.Wait("answer") }()
	}
	time.Sleep(delay)
	go r.Publish("answer", 42, delay)
	// The late readers come while Publish holds the lock.
	for r.mu.TryLock() {
		r.mu.Unlock()
		runtime.Gosched()
	}
	for i := 0; i < 3; i++ {
		go func() { done <- r.Wait("answer") }()
	}
	for i := 0; i < 7; i++ {
		if v := <-done; v != 42 {
			t.Fatalf("got %d", v)
		}
	}
}
