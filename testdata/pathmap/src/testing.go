package main

import "sync"

// A file named like the standard library's testing/testing.go, much
// shorter than it: test frames of Go's own testing.go (t.Parallel, t.Run)
// must never be shown here.

// fanOut runs work(0..n-1) on n goroutines and waits for all of them.
func fanOut(n int, work func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			work(i)
		}(i)
	}
	wg.Wait() // BLOCK[sync] fanOut waits for its workers
}
