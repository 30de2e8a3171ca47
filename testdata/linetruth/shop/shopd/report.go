package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"goblock.test/inventory"
)

// stockReport reads the level of every item, at most two reads at a time,
// each bounded by a timeout.
func stockReport(ctx context.Context, stock *inventory.Cache[string, int], items []string) (map[string]int, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	var mu sync.Mutex
	levels := make(map[string]int, len(items))
	for _, item := range items {
		item := item
		g.Go(func() error { // BLOCK[chan send] two reads already run
			n, err := withTimeout(ctx, time.Second, func() int {
				time.Sleep(2 * time.Millisecond) // BLOCK[sleep] the backend is slow
				return stock.Get(item)
			})
			if err != nil {
				return err
			}
			mu.Lock() // MAY[sync] the other reader is storing its level
			levels[item] = n
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil { // BLOCK[sync] waiting for the last reads
		return nil, err
	}
	return levels, nil
}

var errTimeout = errors.New("timeout")

// withTimeout runs f on its own goroutine and gives up after d or when ctx
// ends.
func withTimeout[T any](ctx context.Context, d time.Duration, f func() T) (T, error) {
	ch := make(chan T, 1)
	go func() { ch <- f() }() // WAKE[chan send]
	t := time.NewTimer(d)
	defer t.Stop()
	var zero T
	select { // BLOCK[select] waiting for f
	case v := <-ch:
		return v, nil
	case <-t.C:
		return zero, errTimeout
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
