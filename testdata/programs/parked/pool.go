package main

import (
	"sync"
)

// job is a unit of work for the pool.
type job struct {
	id   int
	done chan<- int
}

// Pool is a fixed set of workers fed through a channel: idle workers park
// on the channel receive of their range loop.
type Pool struct {
	jobs chan job
	wg   sync.WaitGroup
}

// NewPool starts n workers.
func NewPool(n int) *Pool {
	p := &Pool{jobs: make(chan job)}
	for i := 0; i < n; i++ {
		p.wg.Add(1)
		go func(worker int) {
			defer p.wg.Done()
			for j := range p.jobs { // PARK[chan receive] idle pool workers wait for a job
				j.done <- j.id * worker
			}
		}(i)
	}
	return p
}

// Close stops the workers and waits for them.
func (p *Pool) Close() {
	close(p.jobs)
	p.wg.Wait()
}

// Cache is a generic map guarded by a mutex.
type Cache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// NewCache makes an empty cache.
func NewCache[K comparable, V any]() *Cache[K, V] {
	return &Cache[K, V]{m: make(map[K]V)}
}

// Get reads a key under the lock.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock() // PARK[sync.Mutex.Lock] readers wait while a writer holds the cache
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

// Update runs fn with the lock held.
func (c *Cache[K, V]) Update(fn func(m map[K]V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c.m)
}

// Registry uses an RWMutex: lookups take the read lock.
type Registry struct {
	mu    sync.RWMutex
	names map[string]int
}

// Lookup reads under the read lock.
func (r *Registry) Lookup(name string) int {
	r.mu.RLock() // PARK[sync.RWMutex.RLock] lookups wait for a writer
	defer r.mu.RUnlock()
	return r.names[name]
}
