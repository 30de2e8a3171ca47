#!/usr/bin/env bash
# A 2 GB Go 1.26 trace: `goblock report` time and peak RSS (against 25 % of the trace), then
# the language server showing it (first diagnostics, the whole trace shown). Whole-process
# figures: /usr/bin/time -v. Figures: docs/performance.md.
#
#   tests/bench-2g.sh                 # generates testdata/large/go1.26-2g.trace once (~15 min)
#   RUNS=5 tests/bench-2g.sh          # runs per row (default 3; medians, the largest peak RSS)
#   CHECK=1 tests/bench-2g.sh         # first has Go's own reader parse the first generations
#                                     # (go tool trace -d=parsed, ~4 min of CPU)
#   SKIP_LSP=1 / SKIP_REPORT=1        # leave a part out
#
# The trace comes from testdata/programs/largegen (testdata/gen-large.sh 1.26 1950 OUT), the
# program of the 231 MB bench trace run longer; the workspace of the language server is the
# directory it was built in (as in tests/bench-inputs.sh), holding the trace and its binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
T=testdata/large/go1.26-2g.trace
[ -s "$T" ] || testdata/gen-large.sh 1.26 1950 "$T" >&2
{ command -v /usr/bin/time && command -v python3; } >/dev/null || { apt-get update -qq && apt-get install -y -qq time python3 >/dev/null; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet -p goblock
  BIN=${CARGO_TARGET_DIR:-target}/release/goblock
fi
BIN=$(realpath "$BIN")
bytes=$(stat -L -c %s "$T")
echo "trace: $T ($((bytes / 1000000)) MB, $(cat testdata/large/go1.26-VERSION)), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${CHECK:-}" = 1 ]; then
  # Go's validating reader on the first generations (~120 MB: 300 M lines of its event
  # listing; all 2 GB would take about an hour of CPU), stopped by the closed pipe.
  err=$(mktemp)
  n=$(GOTOOLCHAIN=local /usr/local/go/bin/go tool trace -d=parsed "$T" 2>"$err" | head -n 300000000 | wc -l) || true
  if grep -v 'broken pipe' "$err" | grep -q .; then
    echo "Go's reader failed on $T:"; cat "$err"; rm -f "$err"; exit 1
  fi
  rm -f "$err"
  echo "Go's reader (go tool trace -d=parsed): the first $n lines of events without error"
fi

if [ -z "${SKIP_REPORT:-}" ]; then
  echo
  echo "goblock report --format json --no-binary (runs: wall s, MB/s, CPU s, peak RSS MB, % of the trace)"
  log=$(mktemp)
  for i in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    /usr/bin/time -v "$BIN" report --format json --no-binary "$T" >/dev/null 2>"$log"
    t1=$(date +%s.%N)
    awk -v t0="$t0" -v t1="$t1" -v b="$bytes" -v i="$i" -F': ' '
      /User time/ {u = $2} /System time/ {s = $2} /Maximum resident set size/ {r = $2}
      END {w = t1 - t0; printf "run %d  %7.2f s  %6.0f MB/s  CPU %6.2f s  peak RSS %7.1f MB  %5.1f %%\n",
        i, w, b / 1e6 / w, u + s, r / 1024, r * 1024 * 100 / b}' "$log"
  done
  rm -f "$log"
fi

if [ -z "${SKIP_LSP:-}" ]; then
  echo
  ws="${FIXTURE_ROOT:-/tmp/goblock-fixtures}/src/largegen"
  if [ ! -s "$ws/main.go" ]; then
    mkdir -p "$ws" && cp -a testdata/programs/largegen/. "$ws/"
  fi
  rm -f "$ws"/*.trace "$ws/largegen"
  # A hard link (a copy across file systems): the server discovers it as the workspace's trace.
  ln -f "$ROOT/$T" "$ws/large.trace" 2>/dev/null || cp "$ROOT/$T" "$ws/large.trace"
  cp testdata/large/go1.26-largegen.bin "$ws/largegen"
  echo "goblock lsp on $ws (the trace and its binary), seconds from initialize:"
  python3 tests/lsp-load-times.py "$BIN" "$ws" "$RUNS"
  rm -f "$ws/large.trace"
fi
