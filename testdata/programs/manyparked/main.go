// Command manyparked parks a large number of goroutines in a few realistic
// ways and writes runtime.Stack(all) of them: the benchmark input of
// tests/bench-dump.sh (a dump of ~100 MB; never committed).
//
//	manyparked -n 500000 -o dump.txt
package main

import (
	"flag"
	"os"
	"runtime"
	"sync"
	"time"
)

type request struct{ id int }

// worker waits for requests that never come.
func worker(in <-chan request, out chan<- int) {
	for r := range in {
		out <- r.id
	}
}

// store is a generic map guarded by a mutex held by a stuck writer.
type store[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (s *store[K, V]) get(k K) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

func main() {
	n := flag.Int("n", 500000, "goroutines to park")
	out := flag.String("o", "dump.txt", "output file")
	flag.Parse()
	in := make(chan request)
	results := make(chan int)
	s := &store[string, int]{m: map[string]int{}}
	s.mu.Lock()
	ticker := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < *n; i++ {
		started.Add(1)
		switch i % 4 {
		case 0:
			go func() { started.Done(); worker(in, results) }()
		case 1:
			go func(k string) { started.Done(); _ = s.get(k) }("key")
		case 2:
			go func(id int) {
				started.Done()
				select {
				case <-ticker:
				case results <- id:
				}
			}(i)
		default:
			go func() { started.Done(); time.Sleep(time.Hour) }()
		}
	}
	started.Wait()
	time.Sleep(time.Second)
	buf := make([]byte, 1<<30)
	m := runtime.Stack(buf, true)
	if err := os.WriteFile(*out, buf[:m], 0o644); err != nil {
		panic(err)
	}
}
