#!/usr/bin/env bash
# Regenerates the closure-anchoring fixtures of lsp/server/tests/closures.rs:
# builds src/ (module example.com/crawl: a fetcher, a server and a pipeline
# stage as closures, nested and deferred closures, a generic function and a
# method of a generic type, a method value, two init functions, an inlined
# helper), runs it to record an execution trace, and keeps the binary that
# wrote it (zstd; DWARF left uncompressed by the linker so zstd packs it).
#
# Usage: lsp/server/tests/data/closures/gen.sh [VERSION_DIR...]
#        (default: all; e.g. `gen.sh go1.19` regenerates only that one)
# Output: go1.26/crawl.{trace,bin.zst}, go1.26/crawl-trimpath.{trace,bin.zst}
#         (-trimpath), go1.21/crawl.{trace,bin.zst}, go1.19/crawl.{trace,bin.zst}
#         (Go <= 1.20 names `go`/`defer` wrappers like closures: funcN,
#         funcN.M); each dir has a BUILD file.
# The program is built in the fixed directory $FIXTURE_SRC/crawl (default
# /tmp/goblock-fixtures/src/crawl), like testdata/gen.sh does, so the paths
# recorded are the same whatever the checkout location.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../../.." && pwd)
FIXTURE_SRC=${FIXTURE_ROOT:-/tmp/goblock-fixtures}/src
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
unset GOOS GOARCH GOROOT GOPATH GOEXPERIMENT GODEBUG GOAMD64 2>/dev/null || true
command -v zstd >/dev/null || { echo "gen.sh: zstd is required (apt-get install zstd)" >&2; exit 1; }
bash "$REPO/testdata/install-go.sh"

mkdir -p "$FIXTURE_SRC"
rm -rf "$FIXTURE_SRC/crawl"
cp -a "$HERE/src" "$FIXTURE_SRC/crawl"

build() { # GO OUTDIR NAME [FLAGS...]
	local go=$1 out=$2 name=$3
	shift 3
	mkdir -p "$out"
	local bin="$out/$name.bin"
	(cd "$FIXTURE_SRC/crawl" && "$go" build "$@" -ldflags=-compressdwarf=false -o "$bin" .)
	(cd "$out" && "$bin" -trace "$out/$name.trace" >/dev/null)
	zstd -q -f -19 --long=27 --rm "$bin" -o "$bin.zst"
	{
		echo "# $name: $("$go" version)"
		echo "cd $FIXTURE_SRC/crawl && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 $go build $* -ldflags=-compressdwarf=false -o $name.bin ."
		echo "GOMAXPROCS=2 ./$name.bin -trace $name.trace"
	} >>"$out/BUILD"
}

wanted() { [ -z "$WANTED" ] || [[ " $WANTED " == *" $1 "* ]]; }
WANTED="$*"
if wanted go1.26; then
	rm -rf "$HERE/go1.26"
	build /usr/local/go/bin/go "$HERE/go1.26" crawl
	build /usr/local/go/bin/go "$HERE/go1.26" crawl-trimpath -trimpath
fi
if wanted go1.21; then
	rm -rf "$HERE/go1.21"
	build /usr/lib/go-1.21/bin/go "$HERE/go1.21" crawl
fi
if wanted go1.19; then
	rm -rf "$HERE/go1.19"
	build /usr/lib/go-1.19/bin/go "$HERE/go1.19" crawl
fi
ls -l "$HERE"/go1.*/
# Leave no copy at the recorded path: the tests map it to their workspace.
rm -rf "$FIXTURE_SRC/crawl"
