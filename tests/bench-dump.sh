#!/usr/bin/env bash
# Benchmark: goblock report on a large goroutine dump. Builds
# testdata/programs/manyparked, lets it park N goroutines (default 500000:
# a ~180 MB dump) and write runtime.Stack(all) to testdata/large/ (not
# committed), then runs `goblock report --format json` on it RUNS times
# (default 5) with /usr/bin/time -v and prints wall and CPU (user + sys)
# time, MB/s of each and peak RSS of each run. Figures: docs/performance.md.
#
#   tests/bench-dump.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500000}
RUNS=${2:-5}
mkdir -p testdata/large
DUMP=testdata/large/manyparked-$N.txt
if [ ! -s "$DUMP" ]; then
	(cd testdata/programs/manyparked && GOTOOLCHAIN=local CGO_ENABLED=0 go build -o /tmp/manyparked-bench . )
	/tmp/manyparked-bench -n "$N" -o "$DUMP"
	rm -f /tmp/manyparked-bench
fi
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/goblock
bytes=$(stat -c %s "$DUMP")
goroutines=$(grep -c '^goroutine ' "$DUMP")
echo "dump: $DUMP, $((bytes / 1000000)) MB, $goroutines goroutines"
# MB/s of $bytes in $1 seconds.
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else printf "-" }'; }
for _ in $(seq "$RUNS"); do
	/usr/bin/time -v "$BIN" report --format json --workspace testdata/programs "$DUMP" >/dev/null 2>/tmp/goblock-bench-dump.time
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' /tmp/goblock-bench-dump.time)
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' /tmp/goblock-bench-dump.time)
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' /tmp/goblock-bench-dump.time)
	secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	echo "wall ${secs} s  $(mbs "$secs") MB/s  CPU ${cpu} s  $(mbs "$cpu") MB/s  peak RSS $((rss / 1024)) MB"
done
