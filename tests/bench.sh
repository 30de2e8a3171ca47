#!/usr/bin/env bash
# Benchmark of `goblock report` on a large generated trace, beside Go's own
# `go tool trace -pprof=sync` on the same file, in the same run. Prints wall
# time, MB/s, events/s and peak RSS (from /usr/bin/time -v).
#
#   tests/bench.sh                # Go 1.26 trace of ~220 MiB (testdata/gen-large.sh, cached in testdata/large/)
#   tests/bench.sh 1.21           # old-format trace, compared with Go 1.21's own tool
#   tests/bench.sh 1.26 300       # another size (regenerates when the size changes)
#   TRACE=/tmp/go121-60mb.trace tests/bench.sh 1.21   # an existing trace (of that Go version)
#   PGO=1 tests/bench.sh          # also the profile-guided build (tests/pgo-build.sh)
# Go <= 1.21's tool needs ~100x the trace size in RAM on old-format traces: bench those at
# ~60 MB (testdata/large/go1.21-largegen.bin -mb 60 -o FILE) on a 24 GB machine.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:-1.26}
MB=${2:-220}
case $V in
1.19 | 1.21 | 1.22 | 1.23) GO=/usr/lib/go-$V/bin/go ;;
1.26) GO=/usr/local/go/bin/go ;;
1.27) GO="$(/usr/local/go/bin/go env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/bin/go" ;;
*) echo "bench.sh: unknown version $V" >&2; exit 1 ;;
esac
trace=${TRACE:-testdata/large/go$V-large.trace}
if [ -z "${TRACE:-}" ] && { [ ! -s "$trace" ] || [ "$(stat -c %s "$trace")" -lt $((MB * 1000000)) ]; }; then
  testdata/gen-large.sh "$V" "$MB" >&2
fi
ver=$("$GO" env GOVERSION)
{ command -v /usr/bin/time && command -v bc && command -v taskset; } >/dev/null || { apt-get update -qq && apt-get install -y -qq time bc >/dev/null; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/goblock
# PGO=1: also the profile-guided build (tests/pgo-build.sh), in the same run.
PGO_BIN=
[ "${PGO:-}" = 1 ] && PGO_BIN=$(tests/pgo-build.sh)
bytes=$(stat -c %s "$trace")

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  t1=$(date +%s.%N)
  local wall rss
  wall=$(echo "$t1 - $t0" | bc -l)
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  printf '%s\t%.2f\t%d\n' "$label" "$wall" "$rss"
  rm -f "$log"
}

echo "trace: $trace ($(echo "$bytes/1000000" | bc) MB, written by $ver), machine: $(nproc) cores"
events=$("$BIN" report --format json --no-binary "$trace" | python3 -c 'import json,sys; print(json.load(sys.stdin)["traces"][0]["events"])')
# goblock runs RUNS times (default 9; the shared machine's speed drifts by up to +-30 % from
# one second to the next): the table shows the median and the best run; peak RSS is the
# largest of the runs. Then as many runs pinned to one core (taskset -c 0): the figure for
# the "MB/s on one core" target (the old-format decoder otherwise uses a second thread).
series() { # label, command... -> "label<TAB>median<TAB>best<TAB>max rss"
  local label=$1; shift
  local runs=() walls
  for _ in $(seq "${RUNS:-9}"); do
    runs+=("$(measure "$label" "$@")")
  done
  walls=$(printf '%s\n' "${runs[@]}" | cut -f2 | sort -g)
  printf '%s\t%s\t%s\t%s\n' "$label" \
    "$(echo "$walls" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')" \
    "$(echo "$walls" | head -1)" \
    "$(printf '%s\n' "${runs[@]}" | cut -f3 | sort -g | tail -1)"
}
rows=()
# `goblock report` as a user runs it (its default categories: all but sched, which it then
# does not build), on all cores and on one; and on one core with `--categories all`, where
# it also builds and folds the runnable (sched) episodes: the largest work it can be asked for.
bench_binary() { # label, binary -> three rows
  local args=(report --format json --no-binary "$trace")
  rows+=("$(series "$1" "$2" "${args[@]}")")
  rows+=("$(series "$1, 1 core" taskset -c 0 "$2" "${args[@]}")")
  rows+=("$(series "$1 --categories all, 1 core" taskset -c 0 "$2" report --format json --no-binary --categories all "$trace")")
}
bench_binary "goblock report" "$BIN"
[ -n "$PGO_BIN" ] && bench_binary "goblock report (PGO build)" "$PGO_BIN"
all=${rows[0]}
gmed=$(echo "$all" | cut -f2); gmin=$(echo "$all" | cut -f3); grss=$(echo "$all" | cut -f4)
# Go's tool needs ~19 GB for 220 MB of Go 1.26 trace and more for Go 1.21's:
# bounded by GO_TOOL_TIMEOUT (s); SKIP_GO_TOOL=1 leaves it out.
if [ "${SKIP_GO_TOOL:-}" = 1 ]; then
  o=$(printf 'go tool trace -pprof=sync\tnan\t0')
else
  o=$(measure "go tool trace -pprof=sync" timeout "${GO_TOOL_TIMEOUT:-900}" "$GO" tool trace -pprof=sync "$trace" || true)
fi
ow=$(echo "$o" | cut -f2); orss=$(echo "$o" | cut -f3)
printf '\n%-62s %9s %10s %12s %14s\n' "" "wall s" "MB/s" "Mevents/s" "peak RSS MB"
for s in "${rows[@]}"; do
  IFS=$'\t' read -r label med best rss <<<"$s"
  for row in "median of ${RUNS:-9}:$med" "best of ${RUNS:-9}:$best"; do
    gw=${row#*:}
    printf '%-62s %9.2f %10.1f %12.2f %14.1f\n' "$label (${row%%:*})" "$gw" "$(echo "$bytes/1000000/$gw" | bc -l)" "$(echo "$events/1000000/$gw" | bc -l)" "$(echo "$rss/1024" | bc -l)"
  done
done
if [ "${SKIP_GO_TOOL:-}" = 1 ]; then
  printf '\ngoblock peak RSS = %.1f %% of the trace size; %s events (Go tool skipped)\n' "$(echo "$grss*1024*100/$bytes" | bc -l)" "$events"
  exit 0
fi
printf '%-62s %9.2f %10.1f %12s %14.1f\n' "go tool trace -pprof=sync" "$ow" "$(echo "$bytes/1000000/$ow" | bc -l)" "-" "$(echo "$orss/1024" | bc -l)"
printf '\nspeed-up %.1fx (median), %.1fx (best); goblock peak RSS = %.1f %% of the trace size; %s events\n' "$(echo "$ow/$gmed" | bc -l)" "$(echo "$ow/$gmin" | bc -l)" "$(echo "$grss*1024*100/$bytes" | bc -l)" "$events"
