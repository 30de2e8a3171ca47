package main

import (
	"context"
	"runtime/trace"
	"time"
)

// A producer/consumer pair. The consumer blocks on the receive below; the
// goroutine that wakes it is the producer, at the send below (and, for the
// last episode, at the close).

//go:noinline
func produce(i int) int {
	time.Sleep(delay) // BLOCK[sleep] the producer "works" before each item
	return i * i
}

//go:noinline
func producer(items chan<- int) {
	for i := 0; i < reps; i++ {
		v := produce(i)
		items <- v // WAKE[chan send] wakes the consumer blocked in consumer
	}
	close(items) // WAKE[chan close] wakes the consumer a last time
}

//go:noinline
func consumer(items <-chan int, result chan<- int) {
	sum := 0
	for {
		v, ok := <-items // BLOCK[chan receive] consumer waiting for the producer
		if !ok {
			break
		}
		sum += v
	}
	result <- sum
}

func runProducerConsumer(ctx context.Context) {
	items := make(chan int)
	result := make(chan int, 1)
	go consumer(items, result)
	trace.WithRegion(ctx, "producer", func() {
		producer(items)
	})
	<-result
}
