package main

import "testing"

// TestContention records block and mutex profiles under
// go test -blockprofile/-mutexprofile.
func TestContention(t *testing.T) {
	if got := contend(20); got == 0 {
		t.Fatal("no work done")
	}
}

// TestHang parks goroutines and never returns: run it with -timeout to
// get the testing package's timeout panic and its dump.
func TestHang(t *testing.T) {
	if testing.Short() {
		t.Skip("hangs on purpose")
	}
	park(true)
	t.Run("stuck sub/case", func(t *testing.T) {
		<-make(chan struct{}) // PARK[chan receive] the test waits forever
	})
}
