package main

import (
	"sync"
	"time"
)

// event says that the level of an item changed.
type event struct {
	item  string
	level int
}

// notifier fans events out to named subscribers.
type notifier struct {
	subs sync.Map // name → chan event
	wg   sync.WaitGroup
}

// subscribe registers a subscriber that handles each event with f, on a
// goroutine of its own.
func (n *notifier) subscribe(name string, f func(event)) {
	ch := make(chan event)
	n.subs.Store(name, ch)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for ev := range ch { // BLOCK[chan receive] an idle subscriber WAKE[chan receive]
			f(ev)
		}
	}() // WAKE[done] the deferred n.wg.Done runs here
}

// publish hands ev to every subscriber in turn.
func (n *notifier) publish(ev event) {
	n.subs.Range(func(_, v any) bool {
		v.(chan event) <- ev // BLOCK[chan send] a busy subscriber holds up the publisher WAKE[chan send]
		return true
	})
}

// close stops the subscribers and waits until they are done.
func (n *notifier) close() {
	n.subs.Range(func(k, v any) bool {
		close(v.(chan event)) // WAKE[close]
		n.subs.Delete(k)
		return true
	})
	n.wg.Wait() // BLOCK[sync] the audit log is still writing
}

// auditLog records every event, slowly.
type auditLog struct {
	lines []string
}

func (a *auditLog) record(ev event) {
	time.Sleep(2 * time.Millisecond) // BLOCK[sleep] the audit write is slow
	a.lines = append(a.lines, ev.item)
}
