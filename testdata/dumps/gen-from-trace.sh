#!/usr/bin/env bash
# Makes the profiles of testdata/dumps/from-trace: what `go tool trace
# -pprof=sync` and `-pprof=sched` write from an execution trace (here the
# committed testdata/go1.26/blocking-multigen.trace). They carry the same
# sample types as a block profile (contentions/count, delay/nanoseconds) but
# period type trace/count, and their figures are the trace's own, which
# goblock reads from the trace itself. Used by tests/dumps.rs and the
# server's dump discovery tests: such a file must not be read, nor loaded
# beside the trace, as a sampled block profile.
#
# Usage: testdata/dumps/gen-from-trace.sh   (Go 1.26, a few seconds)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TESTDATA=$(dirname "$HERE")
export GOTOOLCHAIN=local
out="$HERE/from-trace"
trace="$TESTDATA/go1.26/blocking-multigen.trace"
mkdir -p "$out"
for p in sync sched; do
	/usr/local/go/bin/go tool trace -pprof="$p" "$trace" >"$out/$p.pprof"
done
{
	echo "go: $(/usr/local/go/bin/go version)"
	echo "command: go tool trace -pprof=sync|sched testdata/go1.26/blocking-multigen.trace"
} >"$out/BUILD"
