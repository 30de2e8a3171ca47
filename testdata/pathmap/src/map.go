package main

import (
	"sync"
	"time"
)

// A file named like runtime/map.go and sync/map.go: a generic registry
// whose readers wait for a key to be published.

// Registry maps keys to values; Wait blocks until a key is published.
type Registry[K comparable, V any] struct {
	mu      sync.Mutex
	items   map[K]V
	waiters map[K][]chan V
}

// NewRegistry returns an empty registry.
func NewRegistry[K comparable, V any]() *Registry[K, V] {
	return &Registry[K, V]{items: map[K]V{}, waiters: map[K][]chan V{}}
}

// Wait returns the value of k, waiting until it is published.
func (r *Registry[K, V]) Wait(k K) V {
	r.mu.Lock() // BLOCK[sync] readers queue behind a slow publisher
	if v, ok := r.items[k]; ok {
		r.mu.Unlock()
		return v
	}
	ch := make(chan V, 1)
	r.waiters[k] = append(r.waiters[k], ch)
	r.mu.Unlock()
	return <-ch // BLOCK[chan receive] waiting for the key to be published
}

// Publish sets k and wakes its waiters; it holds the lock for hold.
func (r *Registry[K, V]) Publish(k K, v V, hold time.Duration) {
	r.mu.Lock()
	time.Sleep(hold)
	r.items[k] = v
	for _, ch := range r.waiters[k] {
		ch <- v // WAKE[chan send] publishes to a waiter
	}
	delete(r.waiters, k)
	r.mu.Unlock() // WAKE[sync] lets the queued readers in
}
