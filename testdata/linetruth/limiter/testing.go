package limiter

import (
	"context"
	"testing"
)

// Hold takes n units of l's capacity under key for the rest of the test, as
// a busy neighbour would; it returns once they are held.
func Hold(tb testing.TB, l *Limiter, key string, n int64) {
	tb.Helper()
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = l.Do(context.Background(), key, n, func() error {
			close(held) // WAKE[close]
			<-release   // BLOCK[chan receive] held until the test ends
			return nil
		})
	}()
	<-held                                // BLOCK[chan receive] until the neighbour holds the units
	tb.Cleanup(func() { close(release) }) // WAKE[close] at the end of the test
}
