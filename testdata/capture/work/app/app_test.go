package app

import "testing"

func TestDrain(t *testing.T) {
	if got, want := Drain(40, 3), 40*41/2; got != want {
		t.Fatalf("Drain = %d, want %d", got, want)
	}
}
