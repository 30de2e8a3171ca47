package main

import (
	"sync"
	"time"
)

// account is a balance guarded by a mutex that is held too long.
type account struct {
	mu      sync.Mutex
	balance int
}

// deposit holds the lock across a slow step: the end of its critical
// section is where the mutex profile charges the waiters' delay.
func (a *account) deposit(n int) {
	a.mu.Lock() // CONTEND[block] depositors wait for the lock
	a.balance += n
	time.Sleep(2 * time.Millisecond)
	a.mu.Unlock() // CONTEND[mutex] the slow critical section ends here
}

// contend runs depositors against one account and a consumer waiting on a
// slow producer, so that the block and mutex profiles have samples on
// known lines.
func contend(rounds int) int {
	acct := &account{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				acct.deposit(1)
			}
		}()
	}
	results := make(chan int)
	go func() {
		for i := 0; i < rounds; i++ {
			time.Sleep(time.Millisecond)
			results <- i
		}
		close(results)
	}()
	sum := 0
	for r := range results { // CONTEND[block] the consumer waits for the slow producer
		sum += r
	}
	wg.Wait() // CONTEND[block] contend waits for the depositors
	return sum + acct.balance
}
