#!/usr/bin/env bash
# Benchmark of `goblock report` on a large generated trace, beside Go's own
# `go tool trace -pprof=sync` on the same file, in the same run. Prints wall
# time, MB/s, events/s, CPU time (user + system) and peak RSS (from
# /usr/bin/time -v) on 1, 2, … cores (taskset -c 0, 0-1, …: the scaling
# curve), with the machine's load average before and after.
#
#   tests/bench.sh                # Go 1.26 trace of ~220 MiB (testdata/gen-large.sh, cached in testdata/large/)
#   tests/bench.sh 1.21           # old-format trace, compared with Go 1.21's own tool
#   tests/bench.sh 1.26 300       # another size (regenerates when the size changes)
#   TRACE=/tmp/go121-60mb.trace tests/bench.sh 1.21   # an existing trace (of that Go version)
#   PGO=1 tests/bench.sh          # also the profile-guided build (tests/pgo-build.sh)
#   BIN=old/goblock tests/bench.sh   # another build (before/after)
#   WORKERS="0 1 2 3 4" tests/bench.sh   # also the decoder alone with N worker threads
#   RUNS=5 tests/bench.sh         # runs per row (default 9: median and best)
#   SKIP_GO_TOOL=1 tests/bench.sh # without Go's tool (Go 1.26's takes ~65 s and 16 GB)
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
if [ -z "${TRACE:-}" ] && { [ ! -s "$trace" ] || [ "$(stat -L -c %s "$trace")" -lt $((MB * 1000000)) ]; }; then
  testdata/gen-large.sh "$V" "$MB" >&2
fi
ver=$("$GO" env GOVERSION)
{ command -v /usr/bin/time && command -v bc && command -v taskset; } >/dev/null || { apt-get update -qq && apt-get install -y -qq time bc >/dev/null; }
if [ -z "${BIN:-}" ]; then # BIN=path/to/goblock: another build (before/after)
  cargo build --release --quiet -p goblock
  BIN=${CARGO_TARGET_DIR:-target}/release/goblock
fi
# PGO=1: also the profile-guided build (tests/pgo-build.sh), in the same run.
PGO_BIN=
[ "${PGO:-}" = 1 ] && PGO_BIN=$(tests/pgo-build.sh)
bytes=$(stat -L -c %s "$trace")

measure() { # command... -> "wall<TAB>rss_kb<TAB>cpu_s"
  local log; log=$(mktemp)
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  t1=$(date +%s.%N)
  awk -v w="$(echo "$t1 - $t0" | bc -l)" -F': ' '
    /User time/ {u = $2} /System time/ {s = $2} /Maximum resident set size/ {r = $2}
    END {printf "%.3f\t%d\t%.3f\n", w, r, u + s}' "$log"
  rm -f "$log"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "trace: $trace ($(echo "$bytes/1000000" | bc) MB, written by $ver), machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
events=$("$BIN" report --format json --no-binary "$trace" | python3 -c 'import json,sys; print(json.load(sys.stdin)["traces"][0]["events"])')
# goblock runs RUNS times (default 9; the shared machine's speed drifts by up to +-30 % from
# one second to the next): the table shows the median and the best run, the median CPU time;
# peak RSS is the largest of the runs.
series() { # label, command... -> "label<TAB>median wall<TAB>best wall<TAB>max rss<TAB>median cpu"
  local label=$1; shift
  local runs=()
  for _ in $(seq "${RUNS:-9}"); do
    runs+=("$(measure "$@")")
  done
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" \
    "$(printf '%s\n' "${runs[@]}" | cut -f1 | median)" \
    "$(printf '%s\n' "${runs[@]}" | cut -f1 | sort -g | head -1)" \
    "$(printf '%s\n' "${runs[@]}" | cut -f2 | sort -g | tail -1)" \
    "$(printf '%s\n' "${runs[@]}" | cut -f3 | median)"
}
rows=()
# `goblock report` as a user runs it (its default categories: all but sched, which it then
# does not build) on 1, 2, … cores (the decoder sizes its threads by the cores it may run
# on); then on all cores with `--categories all`, where it also builds and folds the runnable
# (sched) episodes: the largest work it can be asked for, and what the language server does.
bench_binary() { # label, binary -> rows
  local args=(report --format json --no-binary "$trace") c
  for c in $(seq "$(nproc)"); do
    rows+=("$(series "$1, $c core(s)" taskset -c "0-$((c - 1))" "$2" "${args[@]}")")
  done
  rows+=("$(series "$1 --categories all" "$2" report --format json --no-binary --categories all "$trace")")
}
bench_binary "goblock report" "$BIN"
# WORKERS="0 1 2 3 4": also the decoder alone (decode_bench, no consumer work) with N worker
# threads (0 = one thread) on all cores: the scaling curve beyond the cores by thread count.
if [ -n "${WORKERS:-}" ]; then
  cargo build --release --quiet -p goblock-trace --example decode_bench
  for w in $WORKERS; do
    rows+=("$(series "decode_bench --workers $w" "${CARGO_TARGET_DIR:-target}/release/examples/decode_bench" "$trace" --workers "$w")")
  done
fi
[ -n "$PGO_BIN" ] && bench_binary "goblock report (PGO build)" "$PGO_BIN"
all=${rows[$(($(nproc) - 1))]}
gmed=$(echo "$all" | cut -f2); gmin=$(echo "$all" | cut -f3); grss=$(echo "$all" | cut -f4); gcpu=$(echo "$all" | cut -f5)
# Go's tool needs ~16 GB for 231 MB of Go 1.26 trace and ~100x the trace for Go 1.21's:
# bounded by GO_TOOL_TIMEOUT (s); SKIP_GO_TOOL=1 leaves it out.
if [ "${SKIP_GO_TOOL:-}" != 1 ]; then
  o=$(measure timeout "${GO_TOOL_TIMEOUT:-900}" "$GO" tool trace -pprof=sync "$trace" || true)
  ow=$(echo "$o" | cut -f1); orss=$(echo "$o" | cut -f2); ocpu=$(echo "$o" | cut -f3)
fi
printf '\n%-52s %8s %8s %10s %8s %12s\n' "" "wall s" "MB/s" "Mevents/s" "CPU s" "peak RSS MB"
for s in "${rows[@]}"; do
  IFS=$'\t' read -r label med best rss cpu <<<"$s"
  for row in "median of ${RUNS:-9}:$med" "best of ${RUNS:-9}:$best"; do
    gw=${row#*:}
    printf '%-52s %8.2f %8.1f %10.2f %8.2f %12.1f\n' "$label (${row%%:*})" "$gw" "$(echo "$bytes/1000000/$gw" | bc -l)" \
      "$(echo "$events/1000000/$gw" | bc -l)" "$cpu" "$(echo "$rss/1024" | bc -l)"
  done
done
if [ "${SKIP_GO_TOOL:-}" != 1 ]; then
  printf '%-52s %8.2f %8.1f %10s %8.2f %12.1f\n' "go tool trace -pprof=sync" "$ow" "$(echo "$bytes/1000000/$ow" | bc -l)" "-" "$ocpu" "$(echo "$orss/1024" | bc -l)"
  printf '\nspeed-up on %d cores: %.1fx (median wall), %.1fx (best wall), %.1fx (CPU time)\n' "$(nproc)" \
    "$(echo "$ow/$gmed" | bc -l)" "$(echo "$ow/$gmin" | bc -l)" "$(echo "$ocpu/$gcpu" | bc -l)"
fi
printf 'goblock peak RSS = %.1f %% of the trace size; %s events; load average now %s\n' \
  "$(echo "$grss*1024*100/$bytes" | bc -l)" "$events" "$(cut -d' ' -f1-3 /proc/loadavg)"
