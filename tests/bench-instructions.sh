#!/usr/bin/env bash
# Instructions per event of the trace decoder alone: `valgrind --tool=callgrind` of
# lsp/trace/examples/decode_bench (no consumer work) on each TRACE, with each thread's share
# (--separate-threads=yes): the caller's thread builds episodes and calls the sink, the others
# order events. Instruction counts do not depend on the machine's load, so this is the figure
# to compare changes with; the largest thread's share bounds what more cores can give
# ("bound": the first row's instructions over this row's largest thread's, an upper bound of
# the speed-up with a core per thread; with WORKERS="0 …" the first row is one thread).
#
#   tests/bench-instructions.sh TRACE...
#   WORKERS="0 1 2 3 4" tests/bench-instructions.sh TRACE   # a row per worker count (decode_bench
#                                               # --workers N; 0 = one thread): the scaling bound
#   tests/bench-instructions.sh                 # the traces of docs/performance.md: the first
#                                               # 64 MB of testdata/large/go1.26-large.trace,
#                                               # and Go's own net / net/http suites traced by
#                                               # Go 1.21 / 1.22 (tests/std-suites.sh), if present
# Takes about 20 s of CPU per 1 M events.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
cargo build --release --quiet -p goblock-trace --example decode_bench
BENCH=${CARGO_TARGET_DIR:-target}/release/examples/decode_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
traces=("$@")
if [ ${#traces[@]} -eq 0 ]; then
  big=testdata/large/go1.26-large.trace
  [ -s "$big" ] || testdata/gen-large.sh 1.26 >&2
  # Whole generations only are decoded: a faster machine writes longer ones (~21 MB, where a
  # 20 MB cut held none); 64 MB holds two or more.
  head -c 64000000 "$big" >"$work/go1.26-large-64MB.trace"
  traces=("$work/go1.26-large-64MB.trace")
  for t in testdata/large/std-suites/go1.21/net.trace testdata/large/std-suites/go1.22/net_http.trace; do
    [ -s "$t" ] && traces+=("$t")
  done
fi
printf '%-40s %8s %12s %14s %9s %7s  %s\n' trace MB events instructions instr/ev bound "per thread (% of all)"
for t in "${traces[@]}"; do
for w in ${WORKERS:--}; do
  out=$work/cg.out
  flag=()
  [ "$w" = - ] || flag=(--workers "$w")
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$BENCH" "$t" "${flag[@]}" \
    >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  events=$(sed -n 's/.* \([0-9]*\) events,.*/\1/p' "$work/stdout" | head -1)
  per=() total=0 most=0
  for f in "$out"-*; do
    n=$(awk '/^totals:/ {print $2}' "$f")
    per+=("$n")
    total=$((total + n))
    [ "$n" -gt "$most" ] && most=$n
  done
  rm -f "$out"-*
  shares=$(for n in "${per[@]}"; do awk -v n="$n" -v t="$total" 'BEGIN {printf "%.0f ", n * 100 / t}'; done)
  # bound: how much faster than one thread doing all of it this run's largest thread allows
  # (with a core per thread), the first row of WORKERS being the one-thread reference.
  [ -z "${ref:-}" ] && ref=$total
  label=$(basename "$t")
  [ "$w" = - ] || label="$label --workers $w"
  printf '%-40s %8.1f %12d %14d %9.1f %6.2fx  %s\n' "$label" "$(echo "$(stat -L -c %s "$t") / 1000000" | bc -l)" \
    "$events" "$total" "$(echo "$total / $events" | bc -l)" "$(echo "$ref / $most" | bc -l)" "$shares"
done
ref=
done
