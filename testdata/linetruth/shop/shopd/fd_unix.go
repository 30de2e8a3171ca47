//go:build unix

package main

import (
	"context"
	"net"
	"syscall"
)

// listen opens a TCP listener with SO_REUSEADDR on its socket, so that a
// restarted shopd can bind while old connections linger in TIME_WAIT.
func listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1) // BLOCK[syscall] setsockopt
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr) // BLOCK[syscall] socket, bind, listen
}
