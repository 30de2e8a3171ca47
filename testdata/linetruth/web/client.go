package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

type item struct {
	Name  string `json:"name"`
	Stock int    `json:"stock"`
}

var client = &http.Client{}

// getJSON fetches url and decodes its JSON body into a T.
func getJSON[T any](url string) (T, error) {
	var v T
	resp, err := client.Get(url) // BLOCK[select] waiting for the response
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("%s: %s", url, resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&v) // BLOCK[chan receive] MAY[network] at EOF the body waits for the connection's reader
	return v, err
}

// fetchAll fetches every item concurrently, one goroutine per name.
func fetchAll(base string, names []string) ([]item, error) {
	items := make([]item, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func(i int, name string) { // WAKE[done] Go 1.19 charges the deferred wg.Done to this line
			defer wg.Done()
			items[i], errs[i] = getJSON[item](base + "/item?name=" + name)
		}(i, name) // WAKE[done] the deferred wg.Done runs here
	}
	wg.Wait() // BLOCK[sync] until every fetch is done
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

// restock posts n restocks at once and waits for them.
func restock(base string, n int) error {
	errc := make(chan error)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := client.Post(base+"/restock?name=apple", "text/plain", nil) // BLOCK[select]
			if err == nil {
				resp.Body.Close()
			}
			errc <- err // WAKE[chan send]
		}()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil { // BLOCK[chan receive]
			first = err
		}
	}
	return first
}
