package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// serve answers every connection of ln: for each "GET <url>" line it waits
// delay (the page is being rendered) and writes one line back.
func serve(ln net.Listener, delay time.Duration) {
	for {
		c, err := ln.Accept() // BLOCK[network] waits for the next client
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			rd := bufio.NewReader(c)
			for {
				req, err := rd.ReadString('\n') // BLOCK[network] waits for the next request
				if err != nil {
					return
				}
				time.Sleep(delay)
				fmt.Fprintf(c, "page %s", strings.TrimPrefix(req, "GET "))
			}
		}()
	}
}
