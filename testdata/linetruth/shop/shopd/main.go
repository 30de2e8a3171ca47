// Command shopd is a small shop back end: an HTTP API whose purchases go
// through a worker pool into an in-memory inventory, an order pipeline, a
// stock report fanned out with errgroup, and change notifications.
//
// Run as `shopd -o FILE`, it serves one shopping session against itself on
// a loopback port and records an execution trace of it in FILE (goblock's
// line-truth fixture: testdata/linetruth/README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"time"

	"goblock.test/inventory"
)

var catalog = []string{"apple", "bread", "cheese", "dates", "eggs"}

func main() {
	out := flag.String("o", "shopd.trace", "write the execution trace to this file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	summary, err := session()
	trace.Stop()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(summary)
}

// session opens the shop, lets shoppers buy, runs the order pipeline, the
// stock report and the notifications, then closes the shop.
func session() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stock := inventory.NewCache[string, int]()
	for _, item := range catalog {
		stock.Update(item, func(int) int { return 20 })
	}
	w := &warehouse{stock: stock}
	pool := NewPool(2, 1, w.fill)
	srv := newServer(stock, pool)
	addr, err := srv.start("127.0.0.1:0")
	if err != nil {
		return "", err
	}

	// Lamps are sold out: this customer waits for the restock below, and
	// lingers a little after the shop closes.
	lingerer, err := dial(addr)
	if err != nil {
		return "", err
	}
	awaited := make(chan string, 1)
	go func() {
		n, err := lingerer.call("AWAIT lamp 2")
		if err != nil {
			n = err.Error()
		}
		awaited <- n // WAKE[chan send]
	}()

	lists := [][]string{
		{"apple", "bread", "cheese"},
		{"bread", "dates", "eggs"},
		{"cheese", "apple", "eggs"},
		{"dates", "bread", "apple"},
	}
	if err := shoppers(addr, lists); err != nil {
		return "", err
	}
	// One lamp arrives now, two more after the order pipeline ran.
	inventory.Restock(stock, "lamp", 1)
	var orders []order
	for i := 0; i < 12; i++ {
		orders = append(orders, order{id: i, item: catalog[i%len(catalog)], units: 1 + i%3})
	}
	revenue := runPipeline(ctx, orders, stock)
	inventory.Restock(stock, "lamp", 2)
	if lamps := <-awaited; lamps != "3" { // BLOCK[chan receive] the second delivery takes a while
		return "", fmt.Errorf("AWAIT lamp: %s", lamps)
	}

	levels, err := stockReport(ctx, stock, catalog)
	if err != nil {
		return "", err
	}

	var n notifier
	audit := &auditLog{}
	n.subscribe("audit", audit.record)
	n.subscribe("metrics", func(ev event) { levels[ev.item] = ev.level })
	for _, item := range catalog {
		n.publish(event{item: item, level: levels[item]})
	}
	n.close()

	go func() {
		time.Sleep(3 * time.Millisecond) // BLOCK[sleep] the lingering customer
		lingerer.close()
	}()
	if err := srv.shutdown(); err != nil {
		return "", err
	}
	return fmt.Sprintf("revenue %d, levels %v, audited %d, settled %d",
		revenue, levels, len(audit.lines), inventory.Settled()), nil
}
