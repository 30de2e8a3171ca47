package main

import (
	"errors"
	"sync"
	"time"

	"goblock.test/inventory"
)

// order is one purchase: units of an item. reply, when set, receives the
// outcome.
type order struct {
	id    int
	item  string
	units int
	reply chan<- error
}

// Pool runs orders on a fixed number of workers fed by a bounded queue.
type Pool struct {
	jobs   chan order
	handle func(order) error
	wg     sync.WaitGroup
}

// NewPool starts size workers behind a queue of queue orders.
func NewPool(size, queue int, handle func(order) error) *Pool {
	p := &Pool{jobs: make(chan order, queue), handle: handle}
	p.wg.Add(size)
	for i := 0; i < size; i++ {
		go p.worker()
	}
	return p
}

// Submit queues o; it blocks while the queue is full.
func (p *Pool) Submit(o order) {
	p.jobs <- o // BLOCK[chan send] both workers busy and the queue full WAKE[chan send]
}

// next waits for the next order.
func (p *Pool) next() (order, bool) {
	o, ok := <-p.jobs // BLOCK[chan receive] an idle worker waits for an order WAKE[chan receive]
	return o, ok
}

func (p *Pool) worker() {
	defer p.wg.Done()
	for {
		o, ok := p.next()
		if !ok {
			return // WAKE[done] the deferred p.wg.Done runs here
		}
		err := p.handle(o)
		if o.reply != nil {
			o.reply <- err // WAKE[chan send]
		}
	}
}

// Close stops the workers after the queued orders.
func (p *Pool) Close() {
	close(p.jobs) // WAKE[close]
	p.wg.Wait()   // MAY[sync] the workers have not seen the close yet
}

var errOutOfStock = errors.New("out of stock")

// warehouse fills orders from the inventory.
type warehouse struct {
	stock *inventory.Cache[string, int]
}

// fill takes the units off the shelf and waits until the reservation is
// settled.
func (w *warehouse) fill(o order) error {
	var err error
	w.stock.Update(o.item, func(n int) int {
		time.Sleep(time.Millisecond) // BLOCK[sleep] writing the shelf is slow
		if n < o.units {
			err = errOutOfStock
			return n
		}
		return n - o.units
	})
	if err != nil {
		return err
	}
	inventory.Reserve(o.item, o.units).Wait()
	return nil
}
