// Command webd is a small catalogue service over net/http: handlers
// registered as closures and a method value behind a concurrency-limiting
// middleware, a catalogue loaded in the background, and a client that
// fetches pages concurrently through a generic JSON helper.
//
// Run as `webd -o FILE`, it serves one load test against itself on a
// loopback port and records an execution trace of it in FILE (goblock's
// line-truth fixture: testdata/linetruth/README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/trace"
	"time"
)

func main() {
	out := flag.String("o", "webd.trace", "write the execution trace to this file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	summary, err := run()
	trace.Stop()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(summary)
}

// run starts the service, loads it with requests and shuts it down.
func run() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // BLOCK[syscall] socket, bind, listen
	if err != nil {
		return "", err
	}
	cat := newCatalogue()
	go cat.load([]string{"apple", "bread", "cheese"})
	srv := &http.Server{Handler: limit(2, cat.routes())}
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ln) // BLOCK[network, syscall] MAY[sync] WAKE[done] accepting connections; when closed, Shutdown holds the lock and waits for Serve
	}()

	base := "http://" + ln.Addr().String()
	got, err := fetchAll(base, []string{"apple", "bread", "cheese", "apple", "bread", "cheese"})
	if err != nil {
		return "", err
	}
	if err := restock(base, 3); err != nil {
		return "", err
	}

	// Connections the client dialled but never used count as active for
	// Go < 1.20's Shutdown until they are 5 s old: close them first.
	client.CloseIdleConnections() // BLOCK[sync] closing a connection waits for its reader to let go
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil { // MAY[sync, select] WOKEN[timer] WAKE[close] closes the listener (waking Serve), polls until connections are idle
		return "", err
	}
	if err := <-served; err != http.ErrServerClosed {
		return "", fmt.Errorf("serve: %v", err)
	}
	return fmt.Sprintf("%d items fetched, %d in stock", len(got), cat.count("apple")), nil
}
