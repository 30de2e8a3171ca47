package main

import (
	"io"
	"net"
	"time"
)

// A file named like internal/poll/fd_unix.go and net/fd_unix.go, whose
// functions do network I/O: the standard library's frames of the same
// name must stay in GOROOT, this file's frames here.

// serveEcho accepts connections on ln and answers each request after delay.
func serveEcho(ln net.Listener, delay time.Duration) {
	for {
		c, err := ln.Accept() // BLOCK[network] the server waits for a client
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 4)
			for {
				if _, err := io.ReadFull(c, buf); err != nil { // BLOCK[network] the handler waits for the next request
					return
				}
				time.Sleep(delay)
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}(c)
	}
}

// roundTrip sends a request and reads its answer.
func roundTrip(c net.Conn, req []byte) ([]byte, error) {
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	resp := make([]byte, len(req))
	_, err := io.ReadFull(c, resp) // BLOCK[network] the client waits for the delayed answer
	return resp, err
}
