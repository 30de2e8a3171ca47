// Package shop is a goblock capture fixture: an order pipeline that blocks
// the way services do — a feeder handing orders to workers over a channel,
// workers borrowing connections from a generic pool and contending on the
// inventory's mutex, results gathered while a closure goroutine waits for
// the workers. Lines where goroutines block carry BLOCK[<reason>] markers
// (reason as the Go 1.22+ tracer names it); the tests read them from here.
package shop

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Order is a customer's order: quantities by item.
type Order struct {
	ID    int
	Items map[string]int
}

// Result is what happened to one order.
type Result struct {
	Order int
	Err   error
}

// Inventory is the shared stock, behind one lock.
type Inventory struct {
	mu    sync.Mutex
	stock map[string]int
	// latency simulates the storage write made while the lock is held.
	latency time.Duration
}

// NewInventory returns an inventory holding stock.
func NewInventory(stock map[string]int, latency time.Duration) *Inventory {
	return &Inventory{stock: stock, latency: latency}
}

// Reserve takes the order's items out of stock, or none of them.
func (inv *Inventory) Reserve(items map[string]int) error {
	inv.mu.Lock() // BLOCK[sync] workers contend on the inventory lock
	defer inv.mu.Unlock()
	for item, n := range items {
		if inv.stock[item] < n {
			return fmt.Errorf("out of %s: want %d, have %d", item, n, inv.stock[item])
		}
	}
	time.Sleep(inv.latency)
	for item, n := range items {
		inv.stock[item] -= n
	}
	return nil
}

// Pool hands out at most cap(free) values at a time.
type Pool[T any] struct {
	free chan T
}

// NewPool makes a pool of n values.
func NewPool[T any](n int, newValue func(i int) T) *Pool[T] {
	p := &Pool[T]{free: make(chan T, n)}
	for i := 0; i < n; i++ {
		p.free <- newValue(i)
	}
	return p
}

// Get waits for a free value.
func (p *Pool[T]) Get() T {
	return <-p.free // BLOCK[chan receive] a worker waits for a free connection
}

// Put returns a value.
func (p *Pool[T]) Put(v T) { p.free <- v }

// Conn stands for a connection to the inventory's storage.
type Conn struct{ id int }

// Process runs the orders through workers goroutines and returns one
// result per order, by order id.
func Process(ctx context.Context, inv *Inventory, conns *Pool[*Conn], orders []Order, workers int) []Result {
	jobs := make(chan Order)
	results := make(chan Result)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				c := conns.Get()
				err := inv.Reserve(o.Items)
				conns.Put(c)
				select {
				case results <- Result{Order: o.ID, Err: err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, o := range orders {
			select { // BLOCK[select] the feeder waits for an idle worker
			case jobs <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait() // BLOCK[sync] the closer waits for the workers to finish
		close(results)
	}()
	out := make([]Result, 0, len(orders))
	for r := range results { // BLOCK[chan receive] the caller gathers the results
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// ParseOrder reads "3x apple, 1x pear".
func ParseOrder(id int, s string) (Order, error) {
	o := Order{ID: id, Items: map[string]int{}}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		qty, item, ok := strings.Cut(part, "x ")
		if !ok {
			return Order{}, fmt.Errorf("order %d: %q: want <n>x <item>", id, part)
		}
		n, err := strconv.Atoi(qty)
		if err != nil || n <= 0 {
			return Order{}, fmt.Errorf("order %d: %q: bad quantity", id, part)
		}
		o.Items[strings.TrimSpace(item)] += n
	}
	return o, nil
}
