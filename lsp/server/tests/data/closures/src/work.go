package main

import (
	"sync"
	"time"
)

// queue is a blocking FIFO of any element type.
type queue[T any] struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []T
}

func newQueue[T any]() *queue[T] {
	q := &queue[T]{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for an element.
func (q *queue[T]) pop() T {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.cond.Wait() // BLOCK[sync.Cond.Wait] the queue is empty
	}
	v := q.items[0]
	q.items = q.items[1:]
	return v
}

// parallel applies fn to every element on its own goroutine and waits.
func parallel[T, R any](in []T, fn func(T) R) []R {
	out := make([]R, len(in))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, v := range in {
		wg.Add(1)
		go func(i int, v T) {
			defer wg.Done()
			sem <- struct{}{} // BLOCK[chan send] at most two at a time
			out[i] = fn(v)
			<-sem
		}(i, v)
	}
	wg.Wait() // BLOCK[sync.WaitGroup.Wait] the slowest element
	return out
}

// stats counts events from every worker under one lock.
type stats struct {
	mu    sync.Mutex
	n     int
	ticks chan struct{}
	quit  chan struct{}
}

func newStats() *stats {
	return &stats{ticks: make(chan struct{}), quit: make(chan struct{})}
}

func (s *stats) add(n int) {
	s.mu.Lock() // BLOCK[sync] contended by the workers
	s.n += n
	time.Sleep(200 * time.Microsecond)
	s.mu.Unlock()
}

func (s *stats) stop() { close(s.quit) }

// watch reports ticks until stop; it runs as a method value's goroutine.
func (s *stats) watch(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select { // BLOCK[select] waits for a tick or the end
		case <-s.ticks:
		case <-s.quit:
			return
		}
	}
}

// recv is small enough to be inlined into its callers.
func recv(ch <-chan int) int {
	return <-ch // BLOCK[chan receive] inlined helper
}

var warm = make(chan int)
var ready = make(chan int)

func init() {
	go func() {
		time.Sleep(10 * time.Millisecond)
		for i := 0; i < 3; i++ {
			warm <- i // BLOCK[chan send] nobody reads until the workers start
		}
	}()
}

func init() {
	go func() {
		time.Sleep(5 * time.Millisecond)
		v := recv(warm)
		ready <- v + 1 // BLOCK[chan send] runWorkers reads it late
	}()
}

// runWorkers runs the queue consumers, a generic fan-out and the deferred
// flush, all contending on the stats lock.
func runWorkers(s *stats) {
	q := newQueue[int]()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v := q.pop()
				if v < 0 {
					return
				}
				func() {
					defer func() {
						s.mu.Lock() // BLOCK[sync] the deferred flush contends with add
						s.n += v
						s.mu.Unlock()
					}()
					time.Sleep(300 * time.Microsecond)
				}()
			}
		}()
	}
	go func() {
		for i := 0; i < 20; i++ {
			time.Sleep(500 * time.Microsecond)
			q.push(i)
		}
		for w := 0; w < 3; w++ {
			q.push(-1)
		}
	}()
	sizes := parallel([]int{1, 2, 3, 4}, func(n int) int {
		time.Sleep(time.Duration(n) * time.Millisecond)
		s.add(n)
		return n * n
	})
	time.Sleep(2 * time.Millisecond)
	<-warm
	<-warm
	time.Sleep(2 * time.Millisecond)
	_ = recv(ready)
	wg.Wait() // BLOCK[sync.WaitGroup.Wait] the queue consumers
	_ = sizes
}
