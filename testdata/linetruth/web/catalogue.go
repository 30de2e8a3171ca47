package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// catalogue is the service's state: stock per item, loaded once in the
// background; requests wait until it is ready.
type catalogue struct {
	mu    sync.Mutex
	stock map[string]int
	ready chan struct{}
}

func newCatalogue() *catalogue {
	return &catalogue{stock: map[string]int{}, ready: make(chan struct{})}
}

// load fills the catalogue as a slow database would, then opens it.
func (c *catalogue) load(items []string) {
	for _, it := range items {
		time.Sleep(time.Millisecond) // BLOCK[sleep] one query per item
		c.mu.Lock()
		c.stock[it] = 10
		c.mu.Unlock() // WAKE[unlock] a restock may be waiting
	}
	close(c.ready) // WAKE[close] the requests waiting for the catalogue
}

func (c *catalogue) count(item string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stock[item]
}

// routes registers the handlers: closures, and a method value.
func (c *catalogue) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		<-c.ready // BLOCK[chan receive] until the catalogue is loaded
		name := r.URL.Query().Get("name")
		c.mu.Lock() // MAY[sync] a restock holds the lock
		n, ok := c.stock[name]
		c.mu.Unlock() // WAKE[unlock]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(item{Name: name, Stock: n}) // MAY[sync] WAKE[unlock] the first encoding of an item builds its encoder, once
	})
	mux.HandleFunc("/restock", c.restock)
	return mux
}

// restock adds one of an item, holding the lock through a slow write.
func (c *catalogue) restock(w http.ResponseWriter, r *http.Request) {
	<-c.ready                          // MAY[chan receive] restocks start after the fetches
	c.mu.Lock()                        // MAY[sync] another restock holds the lock
	defer c.mu.Unlock()                // WAKE[unlock] the deferred unlock runs at return
	time.Sleep(500 * time.Microsecond) // BLOCK[sleep] the slow write
	c.stock[r.URL.Query().Get("name")]++
} // WAKE[unlock] the deferred unlock runs here

// limit lets at most n requests into h at once.
func limit(n int, h http.Handler) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots <- struct{}{} // BLOCK[chan send] all slots taken
		defer func() {
			<-slots // WAKE[chan receive] a slot is free again
		}()
		h.ServeHTTP(w, r)
	})
}
