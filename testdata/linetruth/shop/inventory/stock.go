// Package inventory holds shopd's stock levels in memory: a generic cache
// whose readers can wait for a level, and reservations that are settled in
// batches by a background janitor (see feed.go).
package inventory

import "sync"

// Cache is a map guarded by one mutex. Update runs its function under the
// lock, so a slow update holds up every reader of every key.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	changed *sync.Cond
	items   map[K]V
}

// NewCache returns an empty cache.
func NewCache[K comparable, V any]() *Cache[K, V] {
	c := &Cache[K, V]{items: make(map[K]V)}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Get returns the value of k.
func (c *Cache[K, V]) Get(k K) V {
	c.mu.Lock() // MAY[sync] readers queue behind a slow Update
	defer c.mu.Unlock()
	return c.items[k]
}

// Update replaces the value of k by f(old value) and wakes the waiters.
func (c *Cache[K, V]) Update(k K, f func(V) V) {
	c.mu.Lock() // BLOCK[sync] two workers update at once
	c.items[k] = f(c.items[k])
	c.mu.Unlock()         // WAKE[unlock]
	c.changed.Broadcast() // WAKE[broadcast] the waiters of WaitUntil
}

// WaitUntil blocks until ok holds for the value of k, and returns it.
func (c *Cache[K, V]) WaitUntil(k K, ok func(V) bool) V {
	c.mu.Lock() // MAY[sync] behind a slow Update
	defer c.mu.Unlock()
	for !ok(c.items[k]) {
		c.changed.Wait() // BLOCK[sync.(*Cond).Wait] waiting for a restock MAY[sync] relocking after Broadcast WAKE[unlock] Wait unlocks c.mu
	}
	return c.items[k]
}

// Reservation is a hold on units of an item, settled later by the janitor.
type Reservation struct {
	Item  string
	Units int
	done  chan struct{}
}

// Wait blocks until the reservation is settled.
func (r Reservation) Wait() {
	<-r.done // BLOCK[chan receive] until the janitor's next sweep
}

var pending struct {
	mu   sync.Mutex
	list []Reservation
}

// Reserve records a reservation; the janitor settles it on its next sweep.
func Reserve(item string, units int) Reservation {
	r := Reservation{Item: item, Units: units, done: make(chan struct{})}
	pending.mu.Lock() // MAY[sync] the janitor is sweeping
	pending.list = append(pending.list, r)
	pending.mu.Unlock()
	return r
}

// settle closes every pending reservation.
func settle() int {
	pending.mu.Lock() // MAY[sync] a worker is reserving
	n := len(pending.list)
	for _, r := range pending.list {
		close(r.done) // WAKE[close] settles a reservation
	}
	pending.list = pending.list[:0]
	pending.mu.Unlock()
	return n
}
