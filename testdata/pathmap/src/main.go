// Command pathmap is a fixture of goblock's path mapping: a small program
// whose files share their names with files of Go's standard library
// (fd_unix.go, testing.go, map.go). It is traced through its tests
// (testdata/pathmap/gen.sh).
package main

import (
	"fmt"
	"net"
	"time"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go serveEcho(ln, time.Millisecond)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	resp, err := roundTrip(c, []byte("ping"))
	fmt.Println(string(resp), err)
}
