// Command largegen writes a large execution trace for benchmarks: many
// goroutines doing heavy channel, select, mutex, sync.Cond/WaitGroup and
// loopback-TCP traffic until the trace reaches the requested size.
//
// Usage: largegen [-mb 220] [-o large.trace] [-seed 1]
//
// The work is done in rounds: a coordinator hands every participant a fixed
// number of operations per round and waits for all of them, so the mix of
// blocking kinds is the same from run to run (deterministic-ish: only the
// scheduling, and so the exact event stream, varies). Tracing stops at the
// end of the first round after at least -mb MiB were written, so the file
// ends up slightly larger than requested.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

// Participants and operations per round.
const (
	pipelines     = 8   // chan pipelines (source, 2 stages, sink)
	stagesPerPipe = 4   // channels per pipeline, alternately unbuffered and buffered
	itemsPerRound = 64  // items pushed through every pipeline per round
	mutexWorkers  = 16  // goroutines contending on the shared mutexes
	mutexOps      = 24  // lock operations per mutex worker per round
	selectOps     = 256 // fan-in selects per round
	condTurns     = 256 // sync.Cond ping-pong turns per round
	netConns      = 16  // loopback TCP client/server pairs
	netRoundTrips = 16  // request/response round trips per client per round
	churnBatches  = 2   // batches of 8 short-lived goroutines per round
	msgSize       = 64  // bytes per network message
)

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	atomic.AddInt64(&c.n, int64(n))
	return n, err
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "largegen:", err)
		os.Exit(1)
	}
}

// A participant receives the number of operations of each round on start and
// calls round.Done when it has done them; start is closed at the end.
type participant struct {
	start chan int
}

var round sync.WaitGroup

func main() {
	mb := flag.Int("mb", 220, "stop tracing once this many MiB were written")
	out := flag.String("o", "large.trace", "trace output file")
	seed := flag.Int64("seed", 1, "seed of the workload's pseudo-random choices")
	flag.Parse()

	f, err := os.Create(*out)
	check(err)
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countingWriter{w: bw}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)

	start := time.Now()
	check(trace.Start(cw))

	var all sync.WaitGroup
	type group struct {
		ps  []participant
		ops int
	}
	groups := []group{
		{startPipelines(&all), itemsPerRound},
		{startMutexWorkers(&all, *seed), mutexOps},
		{startSelect(&all), selectOps},
		{startCondPingPong(&all), condTurns},
		{startNet(&all, ln), netRoundTrips},
		{startChurn(&all), churnBatches},
	}
	target := int64(*mb) << 20
	rounds := 0
	for atomic.LoadInt64(&cw.n) < target {
		for _, g := range groups {
			round.Add(len(g.ps))
		}
		for _, g := range groups {
			for _, p := range g.ps {
				p.start <- g.ops
			}
		}
		waitRound()
		rounds++
	}
	for _, g := range groups {
		for _, p := range g.ps {
			close(p.start)
		}
	}
	check(ln.Close())
	all.Wait()
	trace.Stop()
	check(bw.Flush())
	check(f.Close())
	el := time.Since(start)
	n := atomic.LoadInt64(&cw.n)
	fmt.Fprintf(os.Stderr, "largegen: %s: %.1f MiB, %d rounds in %.1fs (%.1f MiB/s)\n",
		*out, float64(n)/(1<<20), rounds, el.Seconds(), float64(n)/(1<<20)/el.Seconds())
}

//go:noinline
func waitRound() {
	round.Wait() // BLOCK[sync] coordinator waiting for the round
}

// ---------------------------------------------------------------------------
// Channel pipelines: source -> stage -> stage -> sink.

//go:noinline
func pipeSend(ch chan<- int, v int) {
	ch <- v // BLOCK[chan send] pipeline stage sending downstream
}

//go:noinline
func pipeRecv(ch <-chan int) (int, bool) {
	v, ok := <-ch // BLOCK[chan receive] pipeline stage waiting for upstream
	return v, ok
}

func startPipelines(all *sync.WaitGroup) []participant {
	var ps []participant
	for p := 0; p < pipelines; p++ {
		chans := make([]chan int, stagesPerPipe)
		for i := range chans {
			if i%2 == 0 {
				chans[i] = make(chan int)
			} else {
				chans[i] = make(chan int, 4)
			}
		}
		part := participant{start: make(chan int)}
		ps = append(ps, part)
		all.Add(stagesPerPipe + 1)
		go func() { // source: n items then an end-of-round marker (-1)
			defer all.Done()
			for n := range part.start {
				for i := 0; i < n; i++ {
					pipeSend(chans[0], i)
				}
				pipeSend(chans[0], -1)
			}
			close(chans[0])
		}()
		for s := 1; s < stagesPerPipe; s++ {
			in, out := chans[s-1], chans[s]
			go func() {
				defer all.Done()
				for {
					v, ok := pipeRecv(in)
					if !ok {
						break
					}
					if v >= 0 {
						v++
					}
					pipeSend(out, v)
				}
				close(out)
			}()
		}
		go func() { // sink
			defer all.Done()
			for {
				v, ok := pipeRecv(chans[stagesPerPipe-1])
				if !ok {
					return
				}
				if v < 0 {
					round.Done()
				}
			}
		}()
	}
	return ps
}

// ---------------------------------------------------------------------------
// Mutex and RWMutex contention. The holders sometimes yield inside the
// critical section, so waiters park even when only one P is free.

var (
	hot    [2]sync.Mutex
	hotRW  sync.RWMutex
	shared [2]int
)

//go:noinline
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	return s
}

//go:noinline
func lockHot(i int, yield bool) {
	hot[i].Lock() // BLOCK[sync] contended mutex
	shared[i] += spin(200)
	if yield {
		runtime.Gosched()
	}
	hot[i].Unlock()
}

//go:noinline
func readHot() int {
	hotRW.RLock() // BLOCK[sync] RLock behind a writer
	v := shared[0] + spin(100)
	hotRW.RUnlock()
	return v
}

//go:noinline
func writeHot() {
	hotRW.Lock() // BLOCK[sync] Lock behind readers
	shared[1] += spin(100)
	runtime.Gosched()
	hotRW.Unlock()
}

func startMutexWorkers(all *sync.WaitGroup, seed int64) []participant {
	var ps []participant
	for w := 0; w < mutexWorkers; w++ {
		rng := rand.New(rand.NewSource(seed + int64(w)))
		part := participant{start: make(chan int)}
		ps = append(ps, part)
		all.Add(1)
		go func() {
			defer all.Done()
			for n := range part.start {
				for i := 0; i < n; i++ {
					switch r := rng.Intn(10); {
					case r < 6:
						lockHot(rng.Intn(len(hot)), r < 3)
					case r < 9:
						readHot()
					default:
						writeHot()
					}
				}
				round.Done()
			}
		}()
	}
	return ps
}

// ---------------------------------------------------------------------------
// Select fan-in from two producers, plus a ticker case.

//go:noinline
func selectFanIn(a, b <-chan int, tick <-chan time.Time) {
	select { // BLOCK[select] fan-in select
	case <-a:
	case <-b:
	case <-tick:
	}
}

//go:noinline
func selectProduce(ch chan<- int, quit <-chan struct{}, i int) bool {
	select { // BLOCK[select] producer of the fan-in
	case ch <- i:
		return true
	case <-quit:
		return false
	}
}

func startSelect(all *sync.WaitGroup) []participant {
	a, b := make(chan int), make(chan int)
	quit := make(chan struct{})
	for _, ch := range []chan int{a, b} {
		ch := ch
		all.Add(1)
		go func() {
			defer all.Done()
			for i := 0; selectProduce(ch, quit, i); i++ {
			}
		}()
	}
	part := participant{start: make(chan int)}
	all.Add(1)
	go func() {
		defer all.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for n := range part.start {
			for i := 0; i < n; i++ {
				selectFanIn(a, b, tick.C)
			}
			round.Done()
		}
		close(quit)
	}()
	return []participant{part}
}

// ---------------------------------------------------------------------------
// sync.Cond ping-pong: the driver hands the turn to the responder and waits
// until it comes back.

//go:noinline
func condWait(c *sync.Cond, turn *int, want int) int {
	for *turn != want && *turn != 2 {
		c.Wait() // BLOCK[sync.(*Cond).Wait] waiting for our turn
	}
	return *turn
}

func startCondPingPong(all *sync.WaitGroup) []participant {
	c := sync.NewCond(new(sync.Mutex))
	turn := 0
	part := participant{start: make(chan int)}
	all.Add(2)
	go func() { // driver
		defer all.Done()
		for n := range part.start {
			for i := 0; i < n; i++ {
				c.L.Lock()
				turn = 1
				c.L.Unlock()
				c.Broadcast() // WAKE[sync.(*Cond).Broadcast] hands the turn to the responder
				c.L.Lock()
				condWait(c, &turn, 0)
				c.L.Unlock()
			}
			round.Done()
		}
		c.L.Lock()
		turn = 2
		c.L.Unlock()
		c.Broadcast()
	}()
	go func() { // responder
		defer all.Done()
		for {
			c.L.Lock()
			if condWait(c, &turn, 1) == 2 {
				c.L.Unlock()
				return
			}
			turn = 0
			c.L.Unlock()
			c.Broadcast() // WAKE[sync.(*Cond).Broadcast] hands the turn back
		}
	}()
	return []participant{part}
}

// ---------------------------------------------------------------------------
// Goroutine churn: batches of short-lived goroutines joined by a WaitGroup.

//go:noinline
func waitBatch(wg *sync.WaitGroup) {
	wg.Wait() // BLOCK[sync] WaitGroup of a batch of short-lived goroutines
}

//go:noinline
func shortWork(ch chan int, i int) {
	ch <- i // BLOCK[chan send] short-lived goroutine reporting (buffered, rarely blocks)
}

func startChurn(all *sync.WaitGroup) []participant {
	part := participant{start: make(chan int)}
	all.Add(1)
	go func() {
		defer all.Done()
		results := make(chan int, 8)
		for n := range part.start {
			for b := 0; b < n; b++ {
				var batch sync.WaitGroup
				for i := 0; i < 8; i++ {
					batch.Add(1)
					go func(i int) {
						shortWork(results, i)
						batch.Done()
					}(i)
				}
				waitBatch(&batch)
				for i := 0; i < 8; i++ {
					<-results
				}
			}
			round.Done()
		}
	}()
	return []participant{part}
}

// ---------------------------------------------------------------------------
// Loopback TCP request/response.

//go:noinline
func netReadFull(c net.Conn, buf []byte) error {
	_, err := io.ReadFull(c, buf) // BLOCK[network] waiting for the peer's message
	return err
}

//go:noinline
func netAccept(ln net.Listener) (net.Conn, error) {
	return ln.Accept() // BLOCK[network] waiting for a client
}

func startNet(all *sync.WaitGroup, ln net.Listener) []participant {
	all.Add(1)
	go func() { // acceptor + echo servers
		defer all.Done()
		var servers sync.WaitGroup
		for {
			c, err := netAccept(ln)
			if err != nil {
				break
			}
			servers.Add(1)
			go func() {
				defer servers.Done()
				defer c.Close()
				buf := make([]byte, msgSize)
				for {
					if netReadFull(c, buf) != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
		servers.Wait()
	}()
	addr := ln.Addr().String()
	var ps []participant
	for i := 0; i < netConns; i++ {
		part := participant{start: make(chan int)}
		ps = append(ps, part)
		c, err := net.Dial("tcp", addr)
		check(err)
		all.Add(1)
		go func() { // client
			defer all.Done()
			defer c.Close()
			buf := make([]byte, msgSize)
			for n := range part.start {
				for i := 0; i < n; i++ {
					_, err := c.Write(buf)
					check(err)
					check(netReadFull(c, buf))
				}
				round.Done()
			}
		}()
	}
	return ps
}
