package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"goblock.test/inventory"
)

// server is shopd's front end: a line protocol over TCP ("BUY apple 1",
// "STOCK apple", "AWAIT lamp 2"), one goroutine per connection, one handler
// per command.
type server struct {
	stock    *inventory.Cache[string, int]
	pool     *Pool
	ln       net.Listener
	handlers map[string]func(args []string) (string, error)
	conns    sync.WaitGroup
	served   chan error
}

func newServer(stock *inventory.Cache[string, int], pool *Pool) *server {
	s := &server{stock: stock, pool: pool, served: make(chan error, 1)}
	s.handlers = map[string]func([]string) (string, error){
		"BUY": s.buy,
		"STOCK": func(args []string) (string, error) {
			return strconv.Itoa(s.stock.Get(args[0])), nil
		},
		"AWAIT": func(args []string) (string, error) {
			min, err := strconv.Atoi(args[1])
			if err != nil {
				return "", err
			}
			n := s.stock.WaitUntil(args[0], func(n int) bool { return n >= min })
			return strconv.Itoa(n), nil
		},
	}
	return s
}

// start listens on addr and serves in the background; it returns the address.
func (s *server) start(addr string) (string, error) {
	ln, err := listen(addr)
	if err != nil {
		return "", err
	}
	s.ln = ln
	go func() { s.served <- s.serve() }()
	return ln.Addr().String(), nil
}

// serve accepts connections until the listener is closed.
func (s *server) serve() error {
	for {
		c, err := s.ln.Accept() // BLOCK[network, syscall] waiting for the next connection WAKE[release] lets go of a closed socket
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			s.handle(c)
		}() // WAKE[done] the deferred s.conns.Done runs here
	}
}

// handle answers the requests of one connection, a line each, until the
// client hangs up.
func (s *server) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n') // BLOCK[network, syscall] waiting for the next request
		if err != nil {
			return // BLOCK[syscall] the deferred c.Close() runs here
		}
		f := strings.Fields(line)
		reply := "ERR empty request"
		if len(f) > 0 {
			if h, ok := s.handlers[f[0]]; !ok {
				reply = "ERR unknown command " + f[0]
			} else if v, err := h(f[1:]); err != nil {
				reply = "ERR " + err.Error()
			} else {
				reply = "OK " + v
			}
		}
		if _, err := fmt.Fprintln(c, reply); err != nil { // BLOCK[syscall] the answer
			return
		}
	}
}

// buy queues an order on the worker pool and waits for its outcome.
func (s *server) buy(args []string) (string, error) {
	if len(args) != 2 {
		return "", errors.New("usage: BUY item units")
	}
	units, err := strconv.Atoi(args[1])
	if err != nil {
		return "", err
	}
	reply := make(chan error, 1)
	s.pool.Submit(order{item: args[0], units: units, reply: reply})
	if err := <-reply; err != nil { // BLOCK[chan receive] the handler waits for a worker
		return "", err
	}
	return "bought", nil
}

// shutdown stops accepting, waits until the open connections are done, then
// stops the worker pool.
func (s *server) shutdown() error {
	defer func() {
		s.conns.Wait() // BLOCK[sync] the last customer has not hung up yet
		s.pool.Close()
	}()
	if err := s.ln.Close(); err != nil { // BLOCK[sync] MAY[syscall] waits until the accept loop lets go of the socket WAKE[close] wakes the accept loop
		return err
	}
	return <-s.served // MAY[chan receive] the accept loop has not noticed yet
}
