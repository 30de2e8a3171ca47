package shop

import (
	"context"
	"testing"
	"time"
)

func orders(n int) []Order {
	out := make([]Order, n)
	for i := range out {
		out[i] = Order{ID: i, Items: map[string]int{"apple": 1 + i%3, "pear": i % 2}}
	}
	return out
}

func stock() *Inventory {
	return NewInventory(map[string]int{"apple": 10_000, "pear": 10_000}, 300*time.Microsecond)
}

func TestProcessOrders(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		conns   int
	}{
		{"one worker", 1, 1},
		{"more workers than connections", 6, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := NewPool(tc.conns, func(i int) *Conn { return &Conn{id: i} })
			res := Process(context.Background(), stock(), conns, orders(150), tc.workers)
			if len(res) != 150 {
				t.Fatalf("got %d results, want 150", len(res))
			}
			for _, r := range res {
				if r.Err != nil {
					t.Errorf("order %d: %v", r.Order, r.Err)
				}
			}
		})
	}
}

func TestReserveOutOfStock(t *testing.T) {
	inv := NewInventory(map[string]int{"apple": 1}, 0)
	if err := inv.Reserve(map[string]int{"apple": 2}); err == nil {
		t.Fatal("reserved more apples than in stock")
	}
}

func BenchmarkProcess(b *testing.B) {
	conns := NewPool(2, func(i int) *Conn { return &Conn{id: i} })
	inv := stock()
	for i := 0; i < b.N; i++ {
		Process(context.Background(), inv, conns, orders(20), 4)
	}
}

func FuzzParseOrder(f *testing.F) {
	f.Add("3x apple, 1x pear")
	f.Add("1x kiwi")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrder(1, s)
		if err != nil {
			return
		}
		inv := NewInventory(map[string]int{}, 0)
		for item := range o.Items {
			inv.stock[item] = o.Items[item]
		}
		if err := inv.Reserve(o.Items); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}
