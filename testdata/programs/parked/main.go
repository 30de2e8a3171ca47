// Command parked parks goroutines in every way a service does (idle pool
// workers, lock waiters, selects, producers without a consumer, leaks
// blocked forever) and produces what people have when such a service
// hangs: goroutine dumps and block/mutex profiles.
//
//	parked -mode http -o DIR      net/http/pprof on loopback: fetches goroutine
//	                              (debug=2, debug=1, proto), block and mutex
//	                              profiles from itself into DIR
//	parked -mode signal           parks, prints "ready", waits for SIGQUIT
//	parked -mode deadlock         parks without timers, then main blocks too:
//	                              "all goroutines are asleep - deadlock!"
//	parked -mode stack -o FILE    runtime.Stack(buf, true) into FILE
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
)

func runtimeGosched() { runtime.Gosched() }

func main() {
	mode := flag.String("mode", "http", "http, signal, deadlock or stack")
	out := flag.String("o", "", "output directory (http) or file (stack)")
	flag.Parse()
	switch *mode {
	case "http":
		serveAndFetch(*out)
	case "signal":
		park(true)
		fmt.Println("ready")
		<-make(chan struct{}) // PARK[chan receive] main waits for the signal
	case "deadlock":
		park(false)
		done := make(chan struct{})
		<-done // PARK[chan receive] main waits with everything else parked
	case "stack":
		park(true)
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		if err := os.WriteFile(*out, buf[:n], 0o644); err != nil {
			panic(err)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}
}

// serveAndFetch serves net/http/pprof on loopback, records contention,
// parks goroutines and downloads the profiles from its own server, as a
// user would from a service.
func serveAndFetch(dir string) {
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = http.Serve(ln, nil) }()
	contend(20)
	park(true)
	base := "http://" + ln.Addr().String() + "/debug/pprof/"
	for _, f := range []struct{ url, file string }{
		{"goroutine?debug=2", "goroutine-debug2.txt"},
		{"goroutine?debug=1", "goroutine-debug1.txt"},
		{"goroutine", "goroutine.pb.gz"},
		{"block", "block.pb.gz"},
		{"mutex", "mutex.pb.gz"},
		{"profile?seconds=1", "cpu.pb.gz"},
		{"heap", "heap.pb.gz"},
	} {
		fetch(base+f.url, filepath.Join(dir, f.file))
	}
}

func fetch(url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("%s: %s", url, resp.Status))
	}
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}
