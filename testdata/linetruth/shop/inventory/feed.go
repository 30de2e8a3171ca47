package inventory

import (
	"sync/atomic"
	"time"
)

// Sweep is how often the janitor settles reservations.
const Sweep = 4 * time.Millisecond

var (
	settled  atomic.Int64
	restocks = make(chan func(), 8)
)

// Settled is the number of reservations settled so far.
func Settled() int64 { return settled.Load() }

// The janitor: settles the pending reservations in batches.
func init() {
	t := time.NewTicker(Sweep)
	go func() {
		for range t.C { // BLOCK[chan receive] WOKEN[timer] between two sweeps
			settled.Add(int64(settle()))
		}
	}()
}

// The restock feed: deliveries arrive one after the other.
func init() {
	go func() {
		for deliver := range restocks { // BLOCK[chan receive] no delivery on the way
			time.Sleep(2 * time.Millisecond) // BLOCK[sleep] the truck is on the road
			deliver()
		}
	}()
}

// Restock adds units to the level of k in c once the delivery arrives.
func Restock[K comparable](c *Cache[K, int], k K, units int) {
	restocks <- func() { // WAKE[chan send] hands a delivery to the feed
		c.Update(k, func(n int) int { return n + units })
	}
}
