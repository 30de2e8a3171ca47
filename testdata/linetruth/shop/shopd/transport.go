package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
)

// client is one connection to shopd.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(addr string) (*client, error) {
	c, err := net.Dial("tcp", addr) // BLOCK[syscall] MAY[network] connecting
	if err != nil {
		return nil, err
	}
	return &client{c: c, r: bufio.NewReader(c)}, nil
}

// call sends one request and returns the answer.
func (c *client) call(format string, args ...any) (string, error) {
	if _, err := fmt.Fprintf(c.c, format+"\n", args...); err != nil { // BLOCK[syscall] the request
		return "", err
	}
	line, err := c.r.ReadString('\n') // BLOCK[network, syscall] waiting for the answer
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "ERR ") {
		return "", errors.New(line[len("ERR "):])
	}
	return strings.TrimPrefix(line, "OK "), nil
}

func (c *client) close() error {
	return c.c.Close() // BLOCK[syscall] hanging up
}

// shoppers runs one shopper per list at once; each buys its items in turn
// over a connection of its own.
func shoppers(addr string, lists [][]string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(lists))
	for i, list := range lists {
		wg.Add(1)
		go func(id int, list []string) {
			defer wg.Done()
			c, err := dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.close()
			for _, item := range list {
				if _, err := c.call("BUY %s 1", item); err != nil {
					errs <- fmt.Errorf("shopper %d: %w", id, err)
					return
				}
			}
		}(i, list) // WAKE[done] the deferred wg.Done runs here
	}
	wg.Wait() // BLOCK[sync] until every shopper is done
	close(errs)
	return <-errs
}
