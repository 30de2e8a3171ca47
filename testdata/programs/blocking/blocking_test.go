package main

import (
	"context"
	"os"
	"testing"
)

var testState *state

// TestMain starts the goroutines that are blocked before `go test -trace`
// starts tracing (the testing package starts it inside m.Run) and releases
// the ones still blocked when it stops.
func TestMain(m *testing.M) {
	testState = setupBeforeTrace()
	code := m.Run()
	teardownAfterTrace(testState)
	os.Exit(code)
}

func TestBlocking(t *testing.T) {
	runWorkload(context.Background(), testState)
}
