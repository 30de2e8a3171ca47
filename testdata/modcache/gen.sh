#!/usr/bin/env bash
# Writes testdata/modcache/xsync-semaphore.trace: `go test -trace` of
# golang.org/x/sync/semaphore run where it lies, in the module cache, so
# every user frame of the trace is a dependency's
# ($GOMODCACHE/golang.org/x/sync@VERSION/…). tests/report.rs uses it for
# the report's hint that names the module-cache directory holding the
# blocking. Needs the module (fetched with `go mod download` if missing).
#
# Usage: testdata/modcache/gen.sh   (Go 1.26, a few seconds)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=golang.org/x/sync@v0.25.0
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
unset GOOS GOARCH GOROOT GOPATH GOEXPERIMENT GODEBUG GOAMD64 2>/dev/null || true
GO=/usr/local/go/bin/go
# Tests whose goroutines wait in the semaphore (Acquire's select).
RUN='TestWeighted$|TestLargeAcquireDoesntStarve|TestAllocCancelDoesntStarve'
dir=$("$GO" mod download -json "$MODULE" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$dir/semaphore" && "$GO" test -count 1 -run "$RUN" -o "$bin/semaphore.test" \
	-trace "$HERE/xsync-semaphore.trace" . >/dev/null)
{
	echo "go: $("$GO" version)"
	echo "module: $MODULE ($dir)"
	echo "env: GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS=2"
	echo "command: cd \$(go env GOMODCACHE)/$MODULE/semaphore && go test -count 1 -run '$RUN' -trace xsync-semaphore.trace . (testdata/modcache/gen.sh)"
} >"$HERE/BUILD"
