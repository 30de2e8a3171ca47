#!/usr/bin/env bash
# Makes the empty block and mutex profiles of testdata/dumps/empty: what
# `go test -blockprofile … -mutexprofile … -run XXX` writes when no test
# runs (a real profile, with its mapping and build ID, and no sample or
# stack frame). Used by tests/report.rs: an input with nothing to
# symbolize must not count against `--binary`.
#
# Usage: testdata/dumps/gen-empty.sh   (Go 1.26, a few seconds)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TESTDATA=$(dirname "$HERE")
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
unset GOOS GOARCH GOROOT GOPATH GOEXPERIMENT GODEBUG GOAMD64 2>/dev/null || true

out="$HERE/empty"
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r "$TESTDATA/programs/parked/." "$src"
mkdir -p "$out"
(
	cd "$src"
	/usr/local/go/bin/go test -run XXX -count 1 \
		-blockprofile "$out/block.pprof" -mutexprofile "$out/mutex.pprof" . >/dev/null
)
{
	echo "go: $(/usr/local/go/bin/go version)"
	echo "command: go test -run XXX -blockprofile block.pprof -mutexprofile mutex.pprof (testdata/programs/parked)"
} >"$out/BUILD"
