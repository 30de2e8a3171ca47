package sub

import "sync"

var mu sync.Mutex

//go:noinline
func Lock() {
	mu.Lock()
	mu.Unlock()
}

// Recv blocks until ch has a value: a blocking frame in a dependency.
//
//go:noinline
func Recv(ch chan int) int {
	return <-ch
}
