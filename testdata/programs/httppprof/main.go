// Command httppprof is a goblock test fixture: it serves net/http/pprof on
// 127.0.0.1:0, runs a blocking workload and fetches its own
// /debug/pprof/trace?seconds=1 over loopback into a file, i.e. a trace taken
// the way production services are traced. Blocking lines carry
// "BLOCK[<reason>]" markers (see testdata/markers.tsv).
//
// Usage: httppprof [-o trace.out] [trace.out]
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
	"time"
)

const delay = 5 * time.Millisecond

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "httppprof:", err)
		os.Exit(1)
	}
}

//go:noinline
func recvJob(jobs chan int) (int, bool) {
	v, ok := <-jobs // BLOCK[chan receive] worker waiting for a job
	return v, ok
}

//go:noinline
func lockShared(mu *sync.Mutex) {
	mu.Lock() // BLOCK[sync] worker contending on a shared mutex
}

//go:noinline
func holdLock() {
	time.Sleep(delay) // BLOCK[sleep] worker holding the mutex
}

//go:noinline
func fetchWork(client *http.Client, url string) {
	resp, err := client.Get(url) // BLOCK[select] HTTP request to /work (waits in the transport; net reads happen in net/http goroutines)
	check(err)
	_, err = io.Copy(io.Discard, resp.Body)
	check(err)
	check(resp.Body.Close())
}

//go:noinline
func slowHandler(w http.ResponseWriter, r *http.Request) {
	time.Sleep(delay) // BLOCK[sleep] the /work handler answers after a delay
	_, _ = w.Write([]byte("done"))
}

func worker(jobs chan int, mu *sync.Mutex, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		_, ok := recvJob(jobs)
		if !ok {
			return
		}
		lockShared(mu)
		holdLock()
		mu.Unlock() // WAKE[sync] wakes lockShared
	}
}

//go:noinline
func dispatch(jobs chan int, i int) {
	time.Sleep(delay) // BLOCK[sleep] the dispatcher paces the jobs
	jobs <- i         // WAKE[chan send] wakes recvJob
}

//go:noinline
func fetchTrace(url, out string) {
	resp, err := http.Get(url) // BLOCK[select] waiting one second for /debug/pprof/trace
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		check(fmt.Errorf("%s: %s", url, resp.Status))
	}
	f, err := os.Create(out)
	check(err)
	_, err = io.Copy(f, resp.Body)
	check(err)
	check(f.Close())
}

func main() {
	out := flag.String("o", "pprof-http.trace", "trace output file")
	flag.Parse()
	if flag.NArg() > 0 {
		*out = flag.Arg(0)
	}

	http.HandleFunc("/work", slowHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = http.Serve(ln, nil) }()
	base := "http://" + ln.Addr().String()

	stop := make(chan struct{})
	var all sync.WaitGroup

	// Chan + mutex workload: 3 workers fed by a paced dispatcher.
	jobs := make(chan int)
	var mu sync.Mutex
	var workers sync.WaitGroup
	for i := 0; i < 3; i++ {
		workers.Add(1)
		go worker(jobs, &mu, &workers)
	}
	all.Add(1)
	go func() {
		defer all.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				close(jobs)
				workers.Wait()
				return
			default:
			}
			dispatch(jobs, i)
		}
	}()

	// Network workload: an HTTP client hitting the slow /work handler.
	all.Add(1)
	go func() {
		defer all.Done()
		client := &http.Client{}
		for {
			select {
			case <-stop:
				client.CloseIdleConnections()
				return
			default:
			}
			fetchWork(client, base+"/work")
		}
	}()

	time.Sleep(50 * time.Millisecond) // let the workload settle before tracing
	fetchTrace(base+"/debug/pprof/trace?seconds=1", *out)
	close(stop)
	all.Wait()
	check(ln.Close())
}
