#!/usr/bin/env bash
# Generates a large trace for benchmarks (NOT committed: testdata/large/ is gitignored).
#
# Usage: testdata/gen-large.sh [VERSION] [MB] [OUT]   VERSION: 1.26 (default) or 1.21, 1.22, 1.23, 1.27, 1.19
#   -> OUT (default testdata/large/go<VERSION>-large.trace, >= MB MiB, default 220) and the
#      binary that wrote it, testdata/large/go<VERSION>-largegen.bin.
#   testdata/gen-large.sh 1.26 1950 testdata/large/go1.26-2g.trace   # the 2 GB trace of tests/bench-2g.sh
# Built like the fixtures of gen.sh: from /tmp/goblock-fixtures/src/largegen, CGO_ENABLED=0, GOMAXPROCS=2.
# Takes ~45 s for 220 MiB with Go 1.26 on the 2-core machine.
set -euo pipefail
TESTDATA=$(cd "$(dirname "$0")" && pwd)
V=${1:-1.26}
MB=${2:-220}
OUT=${3:-$TESTDATA/large/go$V-large.trace}
FIXTURE_SRC=${FIXTURE_ROOT:-/tmp/goblock-fixtures}/src
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
unset GOOS GOARCH GOROOT GOPATH GOEXPERIMENT GODEBUG GOAMD64 2>/dev/null || true

bash "$TESTDATA/install-go.sh"
case $V in
1.19 | 1.21 | 1.22 | 1.23) GO=/usr/lib/go-$V/bin/go ;;
1.26) GO=/usr/local/go/bin/go ;;
1.27) GO="$(/usr/local/go/bin/go env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/bin/go" ;;
*) echo "gen-large.sh: unknown version $V" >&2; exit 1 ;;
esac

mkdir -p "$FIXTURE_SRC" "$TESTDATA/large"
rm -rf "$FIXTURE_SRC/largegen"
cp -a "$TESTDATA/programs/largegen" "$FIXTURE_SRC/largegen"
BIN=$TESTDATA/large/go$V-largegen.bin
(cd "$FIXTURE_SRC/largegen" && "$GO" build -o "$BIN" .)
"$BIN" -mb "$MB" -o "$OUT"
"$GO" version >"$TESTDATA/large/go$V-VERSION"
