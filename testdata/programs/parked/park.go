package main

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// parked holds what the parked goroutines wait on, so the program can
// release them (or never does).
type parked struct {
	pool     *Pool
	cache    *Cache[string, int]
	release  chan struct{}
	registry *Registry
	ready    sync.WaitGroup
	ln       net.Listener
	pipe     *io.PipeWriter
}

// Counts of goroutines per kind: distinct so that a wrong line shows up as
// a wrong count.
const (
	poolWorkers   = 5
	cacheReaders  = 3
	registryUsers = 2
	selectors     = 4
	senders       = 6
	condWaiters   = 2
	forever       = 1
	nilWaiters    = 1
	sleepers      = 2
	acceptors     = 1
	copiers       = 3
	servers       = 1
)

// park starts every kind of parked goroutine and returns once each has
// had the time to block. withTimers adds the kinds that keep a process
// from being declared deadlocked (sleep, network).
func park(withTimers bool) *parked {
	p := &parked{
		pool:     NewPool(poolWorkers),
		cache:    NewCache[string, int](),
		release:  make(chan struct{}),
		registry: &Registry{names: map[string]int{}},
	}
	// A writer holds the cache lock and the registry's write lock until release.
	locked := make(chan struct{})
	go p.cache.Update(func(m map[string]int) {
		p.registry.mu.Lock()
		close(locked)
		<-p.release // PARK[chan receive] the writer holds both locks until release
		p.registry.mu.Unlock()
	})
	<-locked
	for i := 0; i < cacheReaders; i++ {
		go func() { _, _ = p.cache.Get("k") }()
	}
	for i := 0; i < registryUsers; i++ {
		go p.registry.Lookup("x")
	}
	a, b := make(chan int), make(chan string)
	for i := 0; i < selectors; i++ {
		go func() {
			select { // PARK[select] selectors wait on two channels
			case <-a:
			case <-b:
			}
		}()
	}
	out := make(chan int)
	for i := 0; i < senders; i++ {
		go produce(out, i)
	}
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	for i := 0; i < condWaiters; i++ {
		go func() {
			mu.Lock()
			cond.Wait() // PARK[sync.Cond.Wait] waiters for a signal that never comes
			mu.Unlock()
		}()
	}
	for i := 0; i < forever; i++ {
		go func() {
			select {} // PARK[select (no cases)] blocked forever
		}()
	}
	for i := 0; i < nilWaiters; i++ {
		go func() {
			var never chan int
			<-never // PARK[chan receive (nil chan)] a nil channel never delivers
		}()
	}
	// Library code started straight from a go statement: no frame of the
	// program in their stacks, only the statement's wrapper, which SIGQUIT
	// dumps print and debug=2 dumps hide.
	pr, pw := io.Pipe()
	p.pipe = pw
	for i := 0; i < copiers; i++ {
		go io.Copy(io.Discard, pr) // PARK[select] copies from a pipe nobody writes to
	}
	if withTimers {
		for i := 0; i < sleepers; i++ {
			go func() {
				time.Sleep(time.Hour) // PARK[sleep] sleepers
			}()
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		p.ln = ln
		for i := 0; i < acceptors; i++ {
			go func() {
				c, err := ln.Accept() // PARK[IO wait] an accept loop with no client
				if err == nil {
					c.Close()
				}
			}()
		}
		srvLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		for i := 0; i < servers; i++ {
			go (&http.Server{}).Serve(srvLn) // PARK[IO wait] a server no client calls
		}
	}
	// Let every goroutine reach its wait.
	waitParked()
	return p
}

// produce sends results nobody receives.
func produce(out chan<- int, n int) {
	out <- n * n // PARK[chan send] producers with no consumer
}

// waitParked yields until the goroutines started so far had time to park.
func waitParked() {
	for i := 0; i < 50; i++ {
		runtimeGosched()
	}
	time.Sleep(100 * time.Millisecond)
}
