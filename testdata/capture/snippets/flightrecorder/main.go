// Command flightrecorder is the flight-recorder snippet of
// docs/capture.md (Go 1.25+) in a program that runs: it keeps the last
// seconds of trace in memory and writes them out when something goes
// wrong — here, when a request takes longer than it should.
// tests/capture_snippets.rs checks the doc shows these lines and that
// goblock reads the snapshot.
package main

import (
	"log"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

var mu sync.Mutex

func handle(id int) time.Duration {
	start := time.Now()
	mu.Lock() // BLOCK[sync] requests queue on a shared lock
	time.Sleep(time.Duration(id%4) * time.Millisecond)
	mu.Unlock()
	return time.Since(start)
}

func main() {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: 5 * time.Second})
	if err := fr.Start(); err != nil {
		log.Fatal(err)
	}
	defer fr.Stop()

	var wg sync.WaitGroup
	slow := make(chan struct{}, 1)
	for id := 0; id < 40; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if handle(id) > 20*time.Millisecond {
				select {
				case slow <- struct{}{}:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-slow:
		// Something went wrong: keep the last seconds.
		f, err := os.Create("flight.trace")
		if err != nil {
			log.Fatal(err)
		}
		if _, err := fr.WriteTo(f); err != nil {
			log.Fatal(err)
		}
		f.Close()
	default:
		log.Print("no slow request")
	}
}
