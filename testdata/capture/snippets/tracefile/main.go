// Command tracefile is the "trace a whole program" snippet of
// docs/capture.md in a program that runs: the three lines at the top of
// main write trace.out while a small worker pool blocks on a channel.
// tests/capture_snippets.rs checks the doc shows these lines and that
// goblock reads the trace.
package main

import (
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	f, _ := os.Create("trace.out")
	trace.Start(f)
	defer trace.Stop()

	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs { // BLOCK[chan receive] workers wait for jobs
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for i := 0; i < 50; i++ {
		time.Sleep(500 * time.Microsecond)
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}
