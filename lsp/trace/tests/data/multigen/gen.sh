#!/usr/bin/env bash
# Regenerates the multi-generation traces used by the v2 decoder tests:
# testdata/programs/blocking run with GODEBUG=traceadvanceperiod=25000000
# (a new generation every 25 ms instead of every second), by Go 1.22, 1.23,
# 1.26 and 1.27 (toolchains from testdata/install-go.sh), plus oracles
# from Go 1.26's tool:
#   go1.XX.trace, go1.XX.TYPE.go126.raw.txt (TYPE in sync net syscall);
# and go1.26-cpuprof-allocfree.trace (CPU samples + experimental batches).
# Usage: lsp/trace/tests/data/multigen/gen.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../../.." && pwd)
GO126=/usr/local/go/bin/go
GO127="$($GO126 env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/bin/go"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOMAXPROCS=2
SRC=/tmp/goblock-multigen/src
rm -rf "$SRC" && mkdir -p "$SRC" && cp -a "$REPO/testdata/programs/blocking" "$SRC/"
: >"$HERE/VERSIONS"
for v in 1.22 1.23 1.26 1.27; do
	case $v in
	1.26) go=$GO126 ;;
	1.27) go=$GO127 ;;
	*) go=/usr/lib/go-$v/bin/go ;;
	esac
	(cd "$SRC/blocking" && "$go" build -o "$SRC/blocking-$v" .)
	GODEBUG=traceadvanceperiod=25000000 "$SRC/blocking-$v" -o "$HERE/go$v.trace"
	echo "go$v.trace: $("$go" version)" >>"$HERE/VERSIONS"
	for k in sync net syscall; do
		"$GO126" tool trace -pprof=$k "$HERE/go$v.trace" >"$SRC/x.pb"
		"$GO126" tool pprof -raw "$SRC/x.pb" >"$HERE/go$v.$k.go126.raw.txt" 2>/dev/null
	done
done
# CPU profile samples and experimental (AllocFree) batches: `go test` with
# -cpuprofile and GODEBUG=traceallocfree=1, Go 1.26, 100 ms generations.
(cd "$SRC/blocking" && GODEBUG=traceallocfree=1,traceadvanceperiod=100000000 \
	"$GO126" test -run '^TestBlocking$' -count=1 -trace="$HERE/go1.26-cpuprof-allocfree.trace" \
	-cpuprofile="$SRC/cpu.out" . >/dev/null)
echo "go1.26-cpuprof-allocfree.trace: $("$GO126" version), go test -cpuprofile, GODEBUG=traceallocfree=1" >>"$HERE/VERSIONS"
for k in sync net syscall; do
	"$GO126" tool trace -pprof=$k "$HERE/go1.26-cpuprof-allocfree.trace" >"$SRC/x.pb"
	"$GO126" tool pprof -raw "$SRC/x.pb" >"$HERE/go1.26-cpuprof-allocfree.$k.go126.raw.txt" 2>/dev/null
done
echo "oracles: $("$GO126" version)" >>"$HERE/VERSIONS"
