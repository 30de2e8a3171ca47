// Command service is a goblock capture fixture: a small order service with
// net/http/pprof, listening on 127.0.0.1 and loading itself (clients hit
// /orders, whose handlers wait for one of two workers and contend on a
// price cache), so that a test can capture /debug/pprof/trace from it the
// way a running service is traced. Lines where goroutines block carry
// BLOCK[<reason>] markers.
//
// Under /bad/ it also serves what a capture must refuse, at paths ending in
// /debug/pprof/trace: a login page, a pprof profile, a response cut short,
// one that never comes, and redirects to the same and to another host.
//
// Block and mutex profiling are off unless asked for, as in most
// services: -block-rate N calls runtime.SetBlockProfileRate(N),
// -mutex-fraction N runtime.SetMutexProfileFraction(N).
//
// Usage: service [-addr 127.0.0.1:0] [-block-rate N] [-mutex-fraction N].
// It prints "listening on http://ADDR" and serves until its standard input
// is closed.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

type server struct {
	workers chan int
	mu      sync.RWMutex
	prices  map[string]float64
}

func (s *server) price(item string) float64 {
	s.mu.Lock() // BLOCK[sync] handlers contend on the price cache
	defer s.mu.Unlock()
	time.Sleep(300 * time.Microsecond)
	p, ok := s.prices[item]
	if !ok {
		p = float64(len(item)) * 1.25
		s.prices[item] = p
	}
	return p
}

func (s *server) orders(w http.ResponseWriter, r *http.Request) {
	worker := <-s.workers // BLOCK[chan receive] requests wait for a free worker
	defer func() { s.workers <- worker }()
	qty, _ := strconv.Atoi(r.URL.Query().Get("qty"))
	total := float64(qty) * s.price(r.URL.Query().Get("item"))
	fmt.Fprintf(w, "worker %d: %.2f\n", worker, total)
}

func load(base string, client *http.Client, id int) {
	for i := 0; ; i++ {
		url := fmt.Sprintf("%s/orders?item=item%d&qty=%d", base, i%7, id)
		resp, err := client.Get(url) // BLOCK[select] clients wait for their order
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// bad registers the misbehaving endpoints.
func bad(mux *http.ServeMux) {
	const tail = "/debug/pprof/trace"
	mux.HandleFunc("/bad/login"+tail, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Sign in · Acme SSO</title></head>\n<body><form method=post><input name=user></form></body></html>\n")
	})
	mux.HandleFunc("/bad/profile"+tail, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		pprof.Lookup("goroutine").WriteTo(w, 0)
	})
	mux.HandleFunc("/bad/cut"+tail, func(w http.ResponseWriter, r *http.Request) {
		// A real trace, cut in the middle: the connection closes before the
		// end of the chunked body.
		var buf bytes.Buffer
		if err := trace.Start(&buf); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		time.Sleep(200 * time.Millisecond)
		trace.Stop()
		half := buf.Bytes()[:buf.Len()/2]
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(half))
		rw.Write(half)
		rw.WriteString("\r\n")
		rw.Flush()
	})
	mux.HandleFunc("/bad/silent"+tail, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	mux.HandleFunc("/bad/moved"+tail, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tail+"?"+r.URL.RawQuery, http.StatusFound)
	})
	mux.HandleFunc("/bad/elsewhere"+tail, func(w http.ResponseWriter, r *http.Request) {
		// The same server under another host name is another host.
		_, port, _ := net.SplitHostPort(r.Host)
		http.Redirect(w, r, "http://localhost:"+port+tail+"?"+r.URL.RawQuery, http.StatusFound)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	blockRate := flag.Int("block-rate", 0, "runtime.SetBlockProfileRate (0: off)")
	mutexFraction := flag.Int("mutex-fraction", 0, "runtime.SetMutexProfileFraction (0: off)")
	flag.Parse()
	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFraction)
	s := &server{workers: make(chan int, 2), prices: map[string]float64{}}
	s.workers <- 1
	s.workers <- 2
	http.HandleFunc("/orders", s.orders)
	bad(http.DefaultServeMux)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	go func() { log.Fatal(http.Serve(ln, nil)) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	for id := 1; id <= 6; id++ {
		go load(base, client, id)
	}
	fmt.Printf("listening on %s\n", base)
	// Until the parent goes away.
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
}
