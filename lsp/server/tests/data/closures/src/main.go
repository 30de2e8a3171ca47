// Command crawl fetches pages from a local test server with a small pool of
// fetchers, runs their sizes through a pipeline stage and prints a summary.
// The whole run is recorded as an execution trace (-trace, default
// crawl.trace) so that goblock can show where its goroutines wait; the
// server, the fetcher and the stage all run as closures.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

// page is one fetched document.
type page struct {
	url  string
	size int
}

// pipeline weighs every page it receives and forwards it; the stage runs in
// its own goroutine until in is closed.
func pipeline(in <-chan page, weight int) <-chan page {
	out := make(chan page)
	// Unbuffered on purpose: the stage hands a page over only when the
	// collector is ready for it, so a slow collector holds the stage up.
	seen := 0
	go func() {
		defer close(out)
		for p := range in { // BLOCK[chan receive] waits for the fetcher
			seen++
			p.size *= weight
			out <- p // BLOCK[chan send] the collector is slow
		}
	}()
	return out
}

// fetchDelay is how long the test server takes to answer one request.
const fetchDelay = 2 * time.Millisecond

var traceOut = flag.String("trace", "crawl.trace", "where to write the execution trace")

// main starts a test server, a fetcher for the URLs and the pipeline,
// then collects the results while the stats goroutines run.
func main() {
	flag.Parse()
	f, err := os.Create(*traceOut)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	defer trace.Stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go serve(ln, fetchDelay)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	urls := []string{"/", "/about", "/blog", "/blog/1", "/blog/2", "/docs", "/docs/api", "/docs/faq", "/jobs", "/press", "/privacy", "/terms"}
	pages := make(chan page)
	weighed := pipeline(pages, 3)
	var wg sync.WaitGroup
	stats := newStats()
	wg.Add(1)
	watch := stats.watch // a method value: its goroutine runs (*stats).watch-fm
	go watch(&wg)
	var total int
	done := make(chan struct{})
	go func() {
		for p := range weighed { // BLOCK[chan receive] waits for the stage
			time.Sleep(3 * time.Millisecond)
			total += p.size
		}
		close(done)
	}()
	go func() {
		defer close(pages)
		for _, url := range urls {
			fmt.Fprintf(conn, "GET %s\n", url)
			resp, err := rd.ReadString('\n') // BLOCK[network] waits for the test server
			if err != nil {
				log.Print(err)
				return
			}
			if len(resp) > 1<<20 {
				log.Printf("huge page: %s", url)
			}
			pages <- page{url: url, size: len(resp)} // BLOCK[chan send] the stage is busy
		}
	}()

	<-done // BLOCK[chan receive] until the collector is done
	runWorkers(stats)
	stats.stop()
	wg.Wait() // BLOCK[sync.WaitGroup.Wait] the stats watcher finishes
	fmt.Printf("%d pages, %d weighed bytes\n", len(urls), total)
}
