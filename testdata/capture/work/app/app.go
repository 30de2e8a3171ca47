// Package app is the application half of goblock's go.work capture
// fixture: it drains a lib.Queue with a few consumers.
package app

import (
	"sync"
	"time"

	"goblock.test/lib"
)

// Drain pushes n jobs, slowly, to consumers goroutines and returns the sum
// of what they popped.
func Drain(n, consumers int) int {
	q := lib.NewQueue[int]()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sum int
	)
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v := q.Pop()
				if v < 0 {
					return
				}
				mu.Lock()
				sum += v
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= n; i++ {
		time.Sleep(time.Millisecond)
		q.Push(i)
	}
	for c := 0; c < consumers; c++ {
		q.Push(-1)
	}
	wg.Wait()
	return sum
}
