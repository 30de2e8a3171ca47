// Command blocking is a goblock test fixture: between trace.Start and
// trace.Stop it exercises every kind of goroutine blocking, reps times each,
// every kind in its own named function with the blocking operation on its own
// line. Lines that block carry a "BLOCK[<reason>]" marker comment, lines that
// wake a blocked goroutine a "WAKE[<what>]" marker; testdata/gen.sh extracts
// them into testdata/markers.tsv, so tests never hard-code line numbers.
//
// Usage: blocking [-o trace.out] [trace.out]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"syscall"
	"time"
)

const (
	reps  = 5                    // episodes per blocking kind
	delay = 6 * time.Millisecond // length of one blocking episode
)

func main() {
	out := flag.String("o", "blocking.trace", "trace output file")
	flag.Parse()
	if flag.NArg() > 0 {
		*out = flag.Arg(0)
	}
	f, err := os.Create(*out)
	check(err)

	st := setupBeforeTrace()
	check(trace.Start(f))
	runWorkload(context.Background(), st)
	trace.Stop()
	teardownAfterTrace(st)
	check(f.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "blocking:", err)
		os.Exit(1)
	}
}

// pause is how the harness (the waking side) waits before releasing a
// blocked goroutine; it is deliberately not the "sleep" kind below.
//
//go:noinline
func pause() {
	time.Sleep(delay)
}

type kind struct {
	name string
	run  func(ctx context.Context)
}

var kinds = []kind{
	{"chan-recv-unbuffered", runChanRecvUnbuffered},
	{"chan-send-unbuffered", runChanSendUnbuffered},
	{"chan-send-buffered-full", runChanSendBufferedFull},
	{"chan-recv-buffered-empty", runChanRecvBufferedEmpty},
	{"select-multi", runSelectMulti},
	{"select-timeout", runSelectTimeout},
	{"mutex", runMutex},
	{"rwmutex-rlock", runRWMutexRLock},
	{"rwmutex-lock", runRWMutexLock},
	{"cond-wait", runCondWait},
	{"waitgroup-wait", runWaitGroupWait},
	{"net", runNet},
	{"syscall-pipe-read", runSyscallPipeRead},
	{"file-read-pipe", runFileReadPipe},
	{"file-read-regular", runFileReadRegular},
	{"sleep", runSleep},
	{"producer-consumer", runProducerConsumer},
}

// runWorkload is shared by main and by TestBlocking (blocking_test.go).
func runWorkload(ctx context.Context, st *state) {
	ctx, task := trace.NewTask(ctx, "blocking-workload")
	defer task.End()

	trace.WithRegion(ctx, "release-pre-blocked", func() {
		st.releasePreBlocked()
	})
	st.startBlockedAtEnd()

	for _, k := range kinds {
		trace.Logf(ctx, "kind", "start %s", k.name)
		trace.WithRegion(ctx, k.name, func() { k.run(ctx) })
	}
	trace.Log(ctx, "kind", "done")
}

// ---------------------------------------------------------------------------
// Channels.

//go:noinline
func chanRecvUnbuffered(ch chan int) int {
	return <-ch // BLOCK[chan receive] unbuffered chan receive
}

func runChanRecvUnbuffered(ctx context.Context) {
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			chanRecvUnbuffered(ch)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		ch <- i // WAKE[chan send] wakes chanRecvUnbuffered
	}
	<-done
}

//go:noinline
func chanSendUnbuffered(ch chan int, v int) {
	ch <- v // BLOCK[chan send] unbuffered chan send
}

func runChanSendUnbuffered(ctx context.Context) {
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			chanSendUnbuffered(ch, i)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		<-ch // WAKE[chan receive] wakes chanSendUnbuffered
	}
	<-done
}

//go:noinline
func chanSendBufferedFull(ch chan int, v int) {
	ch <- v // BLOCK[chan send] buffered chan send, buffer full
}

func runChanSendBufferedFull(ctx context.Context) {
	ch := make(chan int, 2)
	ch <- -1
	ch <- -2
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			chanSendBufferedFull(ch, i)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		<-ch // WAKE[chan receive] wakes chanSendBufferedFull
	}
	<-done
	<-ch
	<-ch
}

//go:noinline
func chanRecvBufferedEmpty(ch chan int) int {
	return <-ch // BLOCK[chan receive] buffered chan receive, buffer empty
}

func runChanRecvBufferedEmpty(ctx context.Context) {
	ch := make(chan int, 2)
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			chanRecvBufferedEmpty(ch)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		ch <- i // WAKE[chan send] wakes chanRecvBufferedEmpty
	}
	<-done
}

// ---------------------------------------------------------------------------
// Select.

//go:noinline
func selectMulti(a, b chan int, c chan int) int {
	select { // BLOCK[select] select with three cases
	case v := <-a:
		return v
	case v := <-b:
		return v
	case c <- 1:
		return -1
	}
}

func runSelectMulti(ctx context.Context) {
	a, b, c := make(chan int), make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			selectMulti(a, b, c)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		if i%2 == 0 {
			a <- i // WAKE[chan send] wakes selectMulti via case a
		} else {
			b <- i // WAKE[chan send] wakes selectMulti via case b
		}
	}
	<-done
}

//go:noinline
func selectTimeout(ch chan int) int {
	select { // BLOCK[select] select with a time.After timeout case
	case v := <-ch:
		return v
	case <-time.After(delay):
		return -1
	}
}

func runSelectTimeout(ctx context.Context) {
	ch := make(chan int)
	for i := 0; i < reps; i++ {
		selectTimeout(ch) // nobody sends: every episode ends by the timeout
	}
}

// ---------------------------------------------------------------------------
// sync.

//go:noinline
func mutexLock(mu *sync.Mutex) {
	mu.Lock() // BLOCK[sync] sync.Mutex contention
	mu.Unlock()
}

func runMutex(ctx context.Context) {
	var mu sync.Mutex
	for i := 0; i < reps; i++ {
		mu.Lock()
		done := make(chan struct{})
		go func() {
			mutexLock(&mu)
			close(done)
		}()
		pause()
		mu.Unlock() // WAKE[sync] wakes mutexLock
		<-done
	}
}

//go:noinline
func rwMutexRLock(rw *sync.RWMutex) {
	rw.RLock() // BLOCK[sync] RWMutex.RLock blocked by a writer
	rw.RUnlock()
}

func runRWMutexRLock(ctx context.Context) {
	var rw sync.RWMutex
	for i := 0; i < reps; i++ {
		rw.Lock()
		done := make(chan struct{})
		go func() {
			rwMutexRLock(&rw)
			close(done)
		}()
		pause()
		rw.Unlock() // WAKE[sync] wakes rwMutexRLock
		<-done
	}
}

//go:noinline
func rwMutexLock(rw *sync.RWMutex) {
	rw.Lock() // BLOCK[sync] RWMutex.Lock blocked by readers
	rw.Unlock()
}

func runRWMutexLock(ctx context.Context) {
	var rw sync.RWMutex
	for i := 0; i < reps; i++ {
		rw.RLock()
		done := make(chan struct{})
		go func() {
			rwMutexLock(&rw)
			close(done)
		}()
		pause()
		rw.RUnlock() // WAKE[sync] wakes rwMutexLock
		<-done
	}
}

//go:noinline
func condWait(c *sync.Cond, ready *bool) {
	c.L.Lock()
	for !*ready {
		c.Wait() // BLOCK[sync.(*Cond).Wait] sync.Cond.Wait
	}
	*ready = false
	c.L.Unlock()
}

func runCondWait(ctx context.Context) {
	c := sync.NewCond(new(sync.Mutex))
	ready := false
	for i := 0; i < reps; i++ {
		done := make(chan struct{})
		go func() {
			condWait(c, &ready)
			close(done)
		}()
		pause()
		c.L.Lock()
		ready = true
		c.L.Unlock()
		c.Signal() // WAKE[sync.(*Cond).Signal] wakes condWait
		<-done
	}
}

//go:noinline
func waitGroupWait(wg *sync.WaitGroup) {
	wg.Wait() // BLOCK[sync] sync.WaitGroup.Wait
}

func runWaitGroupWait(ctx context.Context) {
	for i := 0; i < reps; i++ {
		var wg sync.WaitGroup
		wg.Add(1)
		done := make(chan struct{})
		go func() {
			waitGroupWait(&wg)
			close(done)
		}()
		pause()
		wg.Done() // WAKE[sync] wakes waitGroupWait
		<-done
	}
}

// ---------------------------------------------------------------------------
// Network I/O over loopback TCP.

//go:noinline
func netAccept(ln net.Listener) net.Conn {
	c, err := ln.Accept() // BLOCK[network] Accept waiting for a client
	check(err)
	return c
}

//go:noinline
func netRead(c net.Conn, buf []byte) int {
	n, err := c.Read(buf) // BLOCK[network] client Read waiting for a delayed answer
	check(err)
	return n
}

func serve(ctx context.Context, ln net.Listener, done chan struct{}) {
	defer close(done)
	for i := 0; i < reps; i++ {
		c := netAccept(ln)
		r := trace.StartRegion(ctx, "serve")
		req := make([]byte, 4)
		_, err := io.ReadFull(c, req)
		check(err)
		pause()
		_, err = c.Write([]byte("pong")) // WAKE[network] answer that wakes netRead
		check(err)
		check(c.Close())
		r.End()
	}
}

func runNet(ctx context.Context) {
	ctx, task := trace.NewTask(ctx, "network")
	defer task.End()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	done := make(chan struct{})
	go serve(ctx, ln, done)
	buf := make([]byte, 4)
	for i := 0; i < reps; i++ {
		pause()                                       // the server blocks in netAccept meanwhile
		c, err := net.Dial("tcp", ln.Addr().String()) // WAKE[network] connection that wakes netAccept
		check(err)
		_, err = c.Write([]byte("ping"))
		check(err)
		trace.WithRegion(ctx, "read-answer", func() {
			netRead(c, buf)
		})
		check(c.Close())
	}
	<-done
	check(ln.Close())
}

// ---------------------------------------------------------------------------
// Blocking system calls.

//go:noinline
func syscallPipeRead(fd sysfd, buf []byte) int {
	n, err := syscall.Read(fd, buf) // BLOCK[syscall] syscall.Read on a raw (blocking) os.Pipe fd
	check(err)
	return n
}

func runSyscallPipeRead(ctx context.Context) {
	r, w, err := os.Pipe()
	check(err)
	fd := sysfd(r.Fd()) // Fd puts the descriptor into blocking mode
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 1)
		for i := 0; i < reps; i++ {
			syscallPipeRead(fd, buf)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		_, err := w.Write([]byte{byte(i)}) // WAKE[syscall] pipe write that ends syscallPipeRead
		check(err)
	}
	<-done
	check(w.Close())
	check(r.Close())
}

//go:noinline
func fileReadPipe(f *os.File, buf []byte) int {
	n, err := f.Read(buf) // BLOCK[syscall] os.File.Read of a blocking pipe (not pollable)
	check(err)
	return n
}

func runFileReadPipe(ctx context.Context) {
	var p [2]sysfd
	check(syscall.Pipe(p[:])) // blocking descriptors: os.NewFile will not use the poller
	r := os.NewFile(uintptr(p[0]), "pipe-r")
	w := os.NewFile(uintptr(p[1]), "pipe-w")
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 1)
		for i := 0; i < reps; i++ {
			fileReadPipe(r, buf)
		}
		close(done)
	}()
	for i := 0; i < reps; i++ {
		pause()
		_, err := w.Write([]byte{byte(i)}) // WAKE[syscall] pipe write that ends fileReadPipe
		check(err)
	}
	<-done
	check(w.Close())
	check(r.Close())
}

const regularFileSize = 8 << 20

//go:noinline
func fileReadRegular(f *os.File, buf []byte) int {
	n, err := f.ReadAt(buf, 0) // BLOCK[syscall] pread of an 8 MiB regular file (short)
	check(err)
	return n
}

func runFileReadRegular(ctx context.Context) {
	buf := make([]byte, regularFileSize)
	for i := 0; i < reps; i++ {
		fileReadRegular(globalState.regular, buf)
	}
}

// ---------------------------------------------------------------------------
// time.Sleep.

//go:noinline
func sleepBlock() {
	time.Sleep(delay) // BLOCK[sleep] time.Sleep
}

func runSleep(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		for i := 0; i < reps; i++ {
			sleepBlock()
		}
		close(done)
	}()
	<-done // BLOCK[chan receive] the time.Sleep kind waits for its sleeper goroutine
}

// ---------------------------------------------------------------------------
// Goroutines blocked before trace.Start, and goroutines still blocked at
// trace.Stop.

type state struct {
	// blocked before trace.Start, released during the trace
	preCh       chan int
	preMu       sync.Mutex
	preNetC     net.Conn // client side, blocked in Read
	preNetS     net.Conn // server side, written during the trace
	prePipeW    *os.File
	prePipeR    *os.File
	preSleepEnd time.Time
	preDone     sync.WaitGroup

	// blocked during the trace, released after trace.Stop
	endCh   chan int
	endMu   sync.Mutex
	endNetC net.Conn
	endNetS net.Conn
	endDone sync.WaitGroup

	regular *os.File // 8 MiB temp file for fileReadRegular
}

var globalState *state

//go:noinline
func preBlockedChanRecv(ch chan int) {
	<-ch // BLOCK[chan receive] blocked before trace.Start, released during the trace
}

//go:noinline
func preBlockedMutex(mu *sync.Mutex) {
	mu.Lock() // BLOCK[sync] blocked before trace.Start, released during the trace
	mu.Unlock()
}

//go:noinline
func preBlockedNetRead(c net.Conn) {
	buf := make([]byte, 4)
	_, err := c.Read(buf) // BLOCK[network] blocked before trace.Start, released during the trace
	check(err)
}

//go:noinline
func preBlockedSyscall(fd sysfd) {
	buf := make([]byte, 1)
	_, err := syscall.Read(fd, buf) // BLOCK[syscall] in a syscall before trace.Start, returns during the trace
	check(err)
}

//go:noinline
func preBlockedSleep() {
	time.Sleep(4 * delay) // BLOCK[sleep] sleeping before trace.Start, wakes during the trace
}

//go:noinline
func endBlockedChanRecv(ch chan int) {
	<-ch // BLOCK[chan receive] still blocked at trace.Stop
}

//go:noinline
func endBlockedMutex(mu *sync.Mutex) {
	mu.Lock() // BLOCK[sync] still blocked at trace.Stop
	mu.Unlock()
}

//go:noinline
func endBlockedNetRead(c net.Conn) {
	buf := make([]byte, 4)
	_, err := c.Read(buf) // BLOCK[network] still blocked at trace.Stop
	check(err)
}

//go:noinline
func blockForever() {
	select {} // BLOCK[forever] select{} never returns
}

func loopbackPair() (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	client, err = net.Dial("tcp", ln.Addr().String())
	check(err)
	server, err = ln.Accept()
	check(err)
	check(ln.Close())
	return client, server
}

// setupBeforeTrace starts the goroutines that are blocked when tracing
// starts and prepares the ones that stay blocked when it stops.
func setupBeforeTrace() *state {
	st := &state{preCh: make(chan int), endCh: make(chan int)}
	globalState = st

	tmp, err := os.CreateTemp("", "goblock-regular-*")
	check(err)
	_, err = tmp.Write(make([]byte, regularFileSize))
	check(err)
	check(os.Remove(tmp.Name()))
	st.regular = tmp

	st.preNetC, st.preNetS = loopbackPair()
	st.endNetC, st.endNetS = loopbackPair()
	st.prePipeR, st.prePipeW, err = os.Pipe()
	check(err)
	fd := sysfd(st.prePipeR.Fd())

	st.preMu.Lock()
	st.preDone.Add(5)
	go func() { preBlockedChanRecv(st.preCh); st.preDone.Done() }()
	go func() { preBlockedMutex(&st.preMu); st.preDone.Done() }()
	go func() { preBlockedNetRead(st.preNetC); st.preDone.Done() }()
	go func() { preBlockedSyscall(fd); st.preDone.Done() }()
	go func() { preBlockedSleep(); st.preDone.Done() }()
	time.Sleep(2 * delay) // let them all block
	return st
}

func (st *state) releasePreBlocked() {
	pause()
	st.preCh <- 1                              // WAKE[chan send] wakes preBlockedChanRecv
	st.preMu.Unlock()                          // WAKE[sync] wakes preBlockedMutex
	_, err := st.preNetS.Write([]byte("late")) // WAKE[network] wakes preBlockedNetRead
	check(err)
	_, err = st.prePipeW.Write([]byte{1}) // WAKE[syscall] ends preBlockedSyscall
	check(err)
	st.preDone.Wait()
}

func (st *state) startBlockedAtEnd() {
	st.endMu.Lock()
	st.endDone.Add(3)
	go func() { endBlockedChanRecv(st.endCh); st.endDone.Done() }()
	go func() { endBlockedMutex(&st.endMu); st.endDone.Done() }()
	go func() { endBlockedNetRead(st.endNetC); st.endDone.Done() }()
	go blockForever()
}

func teardownAfterTrace(st *state) {
	st.endCh <- 1
	st.endMu.Unlock()
	_, err := st.endNetS.Write([]byte("bye!"))
	check(err)
	st.endDone.Wait()
	for _, c := range []io.Closer{st.preNetC, st.preNetS, st.endNetC, st.endNetS, st.prePipeR, st.prePipeW, st.regular} {
		check(c.Close())
	}
	runtime.Gosched()
}
