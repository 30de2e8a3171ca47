package main

import (
	"context"
	"sync"
	"time"

	"goblock.test/inventory"
)

// priced is an order with its price in cents.
type priced struct {
	order
	cents int
}

// runPipeline prices a batch of orders in two parallel chains
// (source → check → price), merges them and returns the revenue.
func runPipeline(ctx context.Context, orders []order, stock *inventory.Cache[string, int]) (revenue int) {
	amounts := make(chan int)
	done := make(chan struct{})
	go collect(amounts, &revenue, done)
	defer func() {
		close(amounts) // WAKE[close] ends the collector
		<-done         // BLOCK[chan receive] the collector books the last amount
	}()

	check := func(o order) order {
		if o.units <= 0 {
			o.units = 1
		}
		return o
	}
	price := func(o order) priced {
		time.Sleep(2 * time.Millisecond) // BLOCK[sleep] the price service is slow
		return priced{order: o, cents: 100*len(o.item) + stock.Get(o.item)}
	}
	half := len(orders) / 2
	a := stage(ctx, stage(ctx, source(ctx, orders[:half]), check), price)
	b := stage(ctx, stage(ctx, source(ctx, orders[half:]), check), price)
	for p := range merge(a, b) { // BLOCK[chan receive] waiting for the slow price stages WAKE[chan receive]
		amounts <- p.cents * p.units // BLOCK[chan send] the collector is slower still WAKE[chan send]
	}
	return revenue
}

// source emits orders as if read one by one from a slow disk.
func source(ctx context.Context, orders []order) <-chan order {
	out := make(chan order)
	go func() {
		defer close(out)
		for _, o := range orders {
			time.Sleep(time.Millisecond) // BLOCK[sleep] reading the next order
			select {                     // BLOCK[select] the next stage is busy WAKE[chan send]
			case out <- o:
			case <-ctx.Done():
				return
			}
		}
	}() // WAKE[close] the deferred close(out) runs here
	return out
}

// stage applies f to every value of in, on a goroutine of its own.
func stage[In, Out any](ctx context.Context, in <-chan In, f func(In) Out) <-chan Out {
	out := make(chan Out)
	go func() {
		defer close(out)
		for v := range in { // BLOCK[chan receive] waiting for the upstream stage WAKE[chan receive]
			select { // BLOCK[select] waiting for the downstream stage WAKE[chan send]
			case out <- f(v):
			case <-ctx.Done():
				return
			}
		}
	}() // WAKE[close] the deferred close(out) runs here
	return out
}

// merge forwards the values of every input to one channel.
func merge[T any](ins ...<-chan T) <-chan T {
	out := make(chan T)
	var wg sync.WaitGroup
	wg.Add(len(ins))
	for _, in := range ins {
		go func(in <-chan T) { // WAKE[done] Go 1.19 charges the deferred wg.Done to this line
			defer wg.Done()
			for v := range in { // BLOCK[chan receive] waiting for a chain WAKE[chan receive]
				out <- v // BLOCK[chan send] the consumer is busy WAKE[chan send]
			}
		}(in) // WAKE[done] the deferred wg.Done runs here
	}
	go func() {
		wg.Wait()  // BLOCK[sync] until both chains are drained
		close(out) // WAKE[close]
	}()
	return out
}

// collect books amounts into *total until amounts is closed.
func collect(amounts <-chan int, total *int, done chan<- struct{}) {
	defer close(done)
	for a := range amounts { // BLOCK[chan receive] waiting for the next amount WAKE[chan receive]
		time.Sleep(3 * time.Millisecond) // BLOCK[sleep] the ledger write is slow
		*total += a
	}
} // WAKE[close] the deferred close(done) runs here
