#!/usr/bin/env bash
# Regenerates testdata/dumps/manyparked/runtime-stack.txt: a real dump with
# large groups (the clients' "every goroutine of the group" command, whose
# hover lists at most 16 id ranges). Builds testdata/programs/manyparked
# (the benchmark's program) with Go 1.26 in $FIXTURE_SRC/manyparked (default
# /tmp/goblock-fixtures/src/manyparked: recorded paths are there), parks N
# goroutines (default 240: four groups of 60 whose ids interleave) and
# writes runtime.Stack(all) of them. Usage: testdata/dumps/manyparked/gen.sh [N]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TESTDATA=$(cd "$HERE/../.." && pwd)
N=${1:-240}
FIXTURE_SRC=${FIXTURE_SRC:-/tmp/goblock-fixtures/src}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
GO=/usr/local/go/bin/go
rm -rf "$FIXTURE_SRC/manyparked"
mkdir -p "$FIXTURE_SRC"
cp -r "$TESTDATA/programs/manyparked" "$FIXTURE_SRC/manyparked"
(cd "$FIXTURE_SRC/manyparked" && "$GO" build -o manyparked .)
"$FIXTURE_SRC/manyparked/manyparked" -n "$N" -o "$HERE/runtime-stack.txt"
{
	echo "go: $("$GO" version)"
	echo "source: $FIXTURE_SRC/manyparked (copied from testdata/programs/manyparked)"
	echo "env: GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS=2"
	echo "command: manyparked -n $N -o runtime-stack.txt (testdata/dumps/manyparked/gen.sh)"
} >"$HERE/BUILD"
# Recorded paths that exist are used as recorded: the build dir must not outlive the run.
rm -rf "$FIXTURE_SRC/manyparked"
