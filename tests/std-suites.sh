#!/usr/bin/env bash
# Decoder exactness on large real traces: Go's own `net` and `net/http` test suites traced with
# Go 1.19, 1.21 (old format) and 1.22 (new format), each compared per stack with the same
# version's `go tool trace -pprof=sync|net` (dumped with `go tool pprof -raw`) by the oracle
# tests (lsp/trace/tests/oracle_v1.rs, oracle_v2.rs), which every line's figures follow from.
# Not part of CI (the suites take ~3 min each to run and ~1 min each for Go's tool).
#
#   tests/std-suites.sh                 # traces cached in testdata/large/std-suites/ (not committed)
#   VERSIONS="1.21" tests/std-suites.sh # a subset
#   REGEN=1 tests/std-suites.sh         # trace the suites again
#
# Versions whose toolchain is missing (/usr/lib/go-1.NN, testdata/install-go.sh) are skipped
# with a message. Suites that fail for lack of network still write a full trace.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/testdata/large/std-suites
VERSIONS=${VERSIONS:-1.19 1.21 1.22}
v1_dirs=() v2_dirs=()
for v in $VERSIONS; do
  goroot=/usr/lib/go-$v
  if [ ! -x "$goroot/bin/go" ]; then
    echo "std-suites.sh: skipped Go $v: no toolchain at $goroot (testdata/install-go.sh)" >&2
    continue
  fi
  dir=$out/go$v
  mkdir -p "$dir"
  for pkg in net net/http; do
    base=$dir/${pkg//\//_}
    if [ "${REGEN:-}" = 1 ] || [ ! -s "$base.trace" ]; then
      echo "std-suites.sh: tracing Go $v's $pkg tests" >&2
      (cd "$goroot/src" && GOROOT=$goroot GOTOOLCHAIN=local GOFLAGS=-count=1 \
        "$goroot/bin/go" test -trace "$base.trace" -o "$base.test" "$pkg" >"$base.log" 2>&1) || true
      rm -f "$base".*.raw.txt
    fi
    [ -s "$base.trace" ] || { echo "std-suites.sh: no trace for Go $v $pkg (see $base.log)" >&2; exit 1; }
    for ty in sync net; do
      if [ ! -s "$base.$ty.raw.txt" ]; then
        GOTOOLCHAIN=local "$goroot/bin/go" tool trace -pprof=$ty "$base.trace" >"$base.$ty.pb"
        GOTOOLCHAIN=local "$goroot/bin/go" tool pprof -raw "$base.$ty.pb" >"$base.$ty.raw.txt" 2>/dev/null
      fi
      # New format: also Go 1.26's tool (Go 1.22-1.25 tools skip stack-less events, golang/go#74850).
      if [ "${v#1.}" -ge 22 ] && [ ! -s "$base.$ty.go126.raw.txt" ]; then
        /usr/local/go/bin/go tool trace -pprof=$ty "$base.trace" >"$base.$ty.go126.pb"
        /usr/local/go/bin/go tool pprof -raw "$base.$ty.go126.pb" >"$base.$ty.go126.raw.txt" 2>/dev/null
      fi
    done
  done
  if [ "${v#1.}" -ge 22 ]; then v2_dirs+=("$dir"); else v1_dirs+=("$dir"); fi
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
ifs() { local IFS=:; echo "$*"; }
status=0
if [ ${#v1_dirs[@]} -gt 0 ]; then
  GOBLOCK_V1_FIXTURE_DIRS=$(ifs "${v1_dirs[@]}") cargo test --release -q -p goblock-trace \
    --test oracle_v1 old_format -- --nocapture 2>&1 | grep -E '^(std-suites|go1\.|test result)|mismatch|oracle stack|extra stack|: stack' || status=1
fi
if [ ${#v2_dirs[@]} -gt 0 ]; then
  GOBLOCK_V2_FIXTURE_DIRS=$(ifs "${v2_dirs[@]}") cargo test --release -q -p goblock-trace \
    --test oracle_v2 new_format -- --nocapture 2>&1 | grep -E '^(go1\.2[0-9]/(net|net_http) |test result)|mismatch|FAIL' || status=1
fi
exit $status
