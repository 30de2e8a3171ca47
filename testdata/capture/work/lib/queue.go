// Package lib is the library half of goblock's go.work capture fixture: a
// bounded queue whose consumers block in the library, called from the app
// module, which builds only through the workspace (its go.mod does not
// require this module).
package lib

import "sync"

// Queue is a bounded FIFO with blocking Pop.
type Queue[T any] struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []T
}

// NewQueue returns an empty queue.
func NewQueue[T any]() *Queue[T] {
	q := &Queue[T]{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Push adds v and wakes one consumer.
func (q *Queue[T]) Push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.cond.Signal()
}

// Pop waits for an item.
func (q *Queue[T]) Pop() T {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.cond.Wait() // BLOCK[sync.(*Cond).Wait] consumers wait for work
	}
	v := q.items[0]
	q.items = q.items[1:]
	return v
}
