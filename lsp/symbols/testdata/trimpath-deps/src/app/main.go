package main

import (
	"os"
	"runtime/trace"
	"time"

	"example.com/dep/sub"
)

func main() {
	f, _ := os.Create(os.Args[1])
	trace.Start(f)
	done := make(chan int)
	ch := make(chan int)
	for i := 0; i < 4; i++ {
		go func() { sub.Lock(); done <- sub.Recv(ch) }()
	}
	time.Sleep(10 * time.Millisecond)
	for i := 0; i < 4; i++ {
		ch <- i
		<-done
	}
	trace.Stop()
}
