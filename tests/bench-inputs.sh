#!/usr/bin/env bash
# What opening inputs costs, as whole-process figures (/usr/bin/time -v: wall time, peak RSS):
#
# 1. Binary discovery: `goblock report --format json TRACE` without --binary, run in an empty
#    directory and in a directory holding test binaries of other programs (the fixtures' binaries
#    of other Go versions, the line-truth corpus's, and `go test -c` of net/http and
#    encoding/json: ~50 MB of executables, none of which wrote TRACE). The difference is what
#    discovery costs.
# 2. The language server loading the bench trace: `goblock lsp` on a workspace holding the trace
#    and the binary that wrote it, driven over stdio by tests/lsp-load-times.py until the whole
#    trace is shown; peak RSS against the budget of 64 MB + 25 % of the trace.
#
#   tests/bench-inputs.sh                    # traces of testdata/gen-large.sh: 1.23 at 69 MiB (1), 1.26 (2)
#   BIN=path/to/goblock tests/bench-inputs.sh  # another build (e.g. an older one, for before/after)
#   RUNS=5 tests/bench-inputs.sh             # runs per row (default 3; the median is shown)
#   SKIP_DISCOVERY=1 tests/bench-inputs.sh   # only the language server
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
{ command -v /usr/bin/time && command -v python3; } >/dev/null || { apt-get update -qq && apt-get install -y -qq time python3 >/dev/null; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/goblock
fi
BIN=$(realpath "$BIN")
RUNS=${RUNS:-3}
T123=testdata/large/go1.23-large.trace
T126=testdata/large/go1.26-large.trace
[ -s "$T123" ] || testdata/gen-large.sh 1.23 69 >&2
[ -s "$T126" ] || testdata/gen-large.sh 1.26 >&2
WORK=${TMPDIR:-/tmp}/goblock-bench-inputs
mkdir -p "$WORK/empty" "$WORK/bins"

# Test binaries of other programs.
if [ ! -s "$WORK/bins/json.test" ]; then
  for f in go1.19/blocking.bin go1.21/blocking.bin go1.27/blocking.bin go1.26/blocking.test \
    linetruth/go1.26/shopd.bin linetruth/go1.26/limiter.test; do
    zstd -dqf "testdata/$f.zst" -o "$WORK/bins/$(echo "$f" | tr / -).test"
  done
  (cd "$WORK" && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go test -c -o bins/http.test net/http \
    && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go test -c -o bins/json.test encoding/json) >&2
  chmod +x "$WORK"/bins/*
fi

measure() { # dir, command... -> "wall<TAB>rss_kb" (median wall, largest RSS of RUNS runs)
  local dir=$1; shift
  local walls=() rss=0 log t0 t1 r
  log=$(mktemp)
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    (cd "$dir" && /usr/bin/time -v "$@" >/dev/null 2>"$log")
    t1=$(date +%s.%N)
    walls+=("$(echo "$t1 - $t0" | bc -l)")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    [ "$r" -gt "$rss" ] && rss=$r
  done
  rm -f "$log"
  printf '%s\t%s\n' "$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$rss"
}

echo "goblock: $BIN; $(nproc) cores; median of $RUNS runs, peak RSS the largest"
echo
if [ -z "${SKIP_DISCOVERY:-}" ]; then
echo "1. binary discovery: goblock report --format json $T123 ($(($(stat -c %s "$T123") / 1000000)) MB), no --binary"
printf '%-58s %8s %12s\n' "" "wall s" "peak RSS MB"
n=$(find "$WORK/bins" -type f | wc -l)
mb=$(du -sm "$WORK/bins" | cut -f1)
for row in "empty directory:$WORK/empty" "directory with $n test binaries of other programs ($mb MB):$WORK/bins"; do
  IFS=$'\t' read -r wall rss < <(measure "${row#*:}" "$BIN" report --format json "$ROOT/$T123")
  printf '%-58s %8.2f %12.1f\n' "${row%%:*}" "$wall" "$(echo "$rss/1024" | bc -l)"
done
fi

echo
bytes=$(stat -c %s "$T126")
echo "2. goblock lsp loading $T126 ($((bytes / 1000000)) MB) and the binary that wrote it"
# The workspace is the directory the program was built in (gen-large.sh), as for a user who
# traces their own build: a recorded path that exists is used as recorded, so a copy of the
# sources elsewhere would rightly get no annotations.
ws="${FIXTURE_ROOT:-/tmp/goblock-fixtures}/src/largegen"
if [ ! -s "$ws/main.go" ]; then
  mkdir -p "$ws" && cp -a testdata/programs/largegen/. "$ws/"
fi
rm -f "$ws/large.trace" "$ws/largegen"
# A hard link (a copy across file systems): a regular file to every version of the server.
ln -f "$ROOT/$T126" "$ws/large.trace" 2>/dev/null || cp "$ROOT/$T126" "$ws/large.trace"
cp testdata/large/go1.26-largegen.bin "$ws/largegen"
echo "seconds from initialize (tests/lsp-load-times.py); budget of peak RSS: 64 MB + 25 % of the trace = $((64 + bytes / 4 / 1048576)) MB"
python3 tests/lsp-load-times.py "$BIN" "$ws" "$RUNS"
