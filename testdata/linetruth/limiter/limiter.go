// Package limiter bounds concurrent work: a weighted capacity shared by all
// callers (golang.org/x/sync/semaphore, vendored) and one lock per key, so
// that work on the same key never overlaps.
package limiter

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Limiter runs functions within a capacity, one at a time per key.
type Limiter struct {
	sem  *semaphore.Weighted
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// New returns a limiter with the given capacity.
func New(capacity int64) *Limiter {
	return &Limiter{sem: semaphore.NewWeighted(capacity), keys: make(map[string]*keyLock)}
}

// Do runs fn once weight units of capacity are free and no other Do for key
// runs.
func (l *Limiter) Do(ctx context.Context, key string, weight int64, fn func() error) error {
	if err := l.sem.Acquire(ctx, weight); err != nil { // BLOCK[select] waiting for capacity MAY[sync] the semaphore's own mutex
		return err
	}
	defer l.sem.Release(weight)
	k := l.lock(key)
	defer l.unlock(key, k)
	return fn() // WAKE[release] the deferred Release and unlock run here MAY[sync] Release takes the semaphore's mutex
}

// lock takes the lock of key, creating it on first use.
func (l *Limiter) lock(key string) *keyLock {
	l.mu.Lock()
	k := l.keys[key]
	if k == nil {
		k = &keyLock{}
		l.keys[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock() // BLOCK[sync] another Do holds this key
	return k
}

func (l *Limiter) unlock(key string, k *keyLock) {
	k.mu.Unlock() // WAKE[unlock]
	l.mu.Lock()
	if k.refs--; k.refs == 0 {
		delete(l.keys, key)
	}
	l.mu.Unlock()
}

// Batch runs fns with the limiter, each under its own key, and returns the
// first error.
func (l *Limiter) Batch(ctx context.Context, weight int64, fns map[string]func() error) error {
	errs := make(chan error, len(fns))
	for key, fn := range fns {
		go func(key string, fn func() error) {
			errs <- l.Do(ctx, key, weight, fn) // WAKE[chan send]
		}(key, fn)
	}
	var first error
	for range fns {
		if err := <-errs; err != nil && first == nil { // BLOCK[chan receive] waiting for the batch
			first = err
		}
	}
	return first
}
