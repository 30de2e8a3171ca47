#!/usr/bin/env bash
# Regenerates testdata/pathmap: traces of the tests of the program in src/
# (a package whose files are named like files of Go's standard library:
# fd_unix.go, testing.go, map.go), for goblock's path-mapping tests
# (tests/report.rs).
#
# Usage: testdata/pathmap/gen.sh [VERSION...]   VERSION in 1.21 1.23 1.26
#        (default: all). Output: testdata/pathmap/go<VERSION>/.
#
# src/ is copied to $BUILD/pathmap and built there with `go test -c`, and
# $BUILD is deleted afterwards: the user file paths recorded in the traces
# (/tmp/goblock-pathmap-build/pathmap/*.go) do not exist when the tests
# run, as for a trace made on another machine. Standard-library paths are
# the toolchain's GOROOT (they exist here; on a machine without that
# toolchain they do not). Go 1.26 also gets a -trimpath build
# (pathmap-trimpath.trace: `goblock.test/pathmap/fd_unix.go`,
# `internal/poll/fd_unix.go`).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${PATHMAP_BUILD:-/tmp/goblock-pathmap-build}
ALL_VERSIONS="1.21 1.23 1.26"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOMAXPROCS=2
unset GOOS GOARCH GOROOT GOPATH GOEXPERIMENT GODEBUG GOAMD64 2>/dev/null || true

bash "$HERE/../install-go.sh"

go_bin() {
	case $1 in
	1.21 | 1.23) echo "/usr/lib/go-$1/bin/go" ;;
	1.26) echo /usr/local/go/bin/go ;;
	*) echo "gen.sh: unknown version $1" >&2; return 1 ;;
	esac
}

# trace GO OUT NAME [BUILD FLAGS...]: build the test binary, run it traced,
# write OUT/NAME.trace and its `go tool trace -pprof=sync` oracle.
trace() {
	local go=$1 out=$2 name=$3
	shift 3
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	cp -a "$HERE/src" "$BUILD/pathmap"
	(cd "$BUILD/pathmap" && "$go" test -c "$@" -o "$BUILD/pathmap.test" .)
	(cd "$BUILD/pathmap" && "$BUILD/pathmap.test" -test.count=1 -test.trace="$out/$name.trace" >/dev/null)
	"$go" tool trace -pprof=sync "$out/$name.trace" >"$BUILD/sync.pb"
	"$go" tool pprof -raw "$BUILD/sync.pb" >"$out/$name.sync.raw.txt" 2>/dev/null
	echo "$name.trace: cd $BUILD/pathmap && go test -c $* -o pathmap.test . && ./pathmap.test -test.count=1 -test.trace=$name.trace" >>"$out/BUILD"
	echo "$name.sync.raw.txt: go tool trace -pprof=sync $name.trace > sync.pb && go tool pprof -raw sync.pb" >>"$out/BUILD"
	rm -rf "$BUILD"
}

versions=("$@")
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$ALL_VERSIONS"
for v in "${versions[@]}"; do
	go=$(go_bin "$v")
	out=$HERE/go$v
	rm -rf "$out"
	mkdir -p "$out"
	{
		echo "# Written by testdata/pathmap/gen.sh."
		echo "version: $("$go" version)"
		echo "goroot: $("$go" env GOROOT)"
		echo "env: GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS=2"
	} >"$out/BUILD"
	trace "$go" "$out" pathmap
	if [ "$v" = 1.26 ]; then
		trace "$go" "$out" pathmap-trimpath -trimpath
	fi
	echo "gen.sh: go$v done" >&2
done
du -sh "$HERE" >&2
