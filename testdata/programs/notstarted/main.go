// Command notstarted panics right after its `go` statements, before the
// goroutines they create have run: with GOTRACEBACK=all or system the
// panic's dump shows them `runnable` with no frame run yet, at the
// statement (Go 1.22+: its wrapper, `main.main.gowrap1`, is their only
// program frame). testdata/dumps/gen.sh runs it (`notstarted`).
package main

import (
	"io"
	"runtime"
	"strings"
)

func main() {
	// One P: the goroutines created below cannot run before main yields,
	// and the panic never yields.
	runtime.GOMAXPROCS(1)
	ch := make(chan int)
	for i := 0; i < 2; i++ {
		go io.Copy(io.Discard, strings.NewReader("x")) // NOTSTARTED library function
	}
	for i := 0; i < 3; i++ {
		go worker(ch) // NOTSTARTED program function
	}
	panic("before the goroutines ran")
}

//go:noinline
func worker(ch chan int) { <-ch }
