// Package flaky holds the tests goblock's capture tests run when a test
// goes wrong: one that fails after doing its work, and one that never
// returns (a goroutine forgets to close the channel it is waited on).
package flaky

import (
	"sync"
	"testing"
	"time"
)

type budget struct {
	mu   sync.Mutex
	left int
}

func (b *budget) spend() bool {
	b.mu.Lock() // BLOCK[sync] retries contend on the budget
	defer b.mu.Unlock()
	time.Sleep(200 * time.Microsecond)
	if b.left == 0 {
		return false
	}
	b.left--
	return true
}

func TestRetryBudget(t *testing.T) {
	b := &budget{left: 50}
	var wg sync.WaitGroup
	var denied int
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if !b.spend() {
					mu.Lock()
					denied++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if denied > 0 {
		t.Errorf("%d retries denied: the budget is too small", denied)
	}
}

func TestWaitsForever(t *testing.T) {
	done := make(chan struct{})
	go func() {
		time.Sleep(time.Millisecond)
		// Forgot: close(done)
	}()
	<-done // BLOCK[chan receive] nobody closes done: the test hangs
}
