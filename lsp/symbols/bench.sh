#!/usr/bin/env bash
# Symbolizer benchmark (figures only, no timed assertions).
#
# Builds, once, into ${GOBLOCK_BENCH_DIR:-/tmp/goblock-symbols-bench}:
#   compile     cmd/compile built with the machine's Go (/usr/local/go, 1.26) *with* DWARF
#               (~33 MB; the installed tool is stripped)
#   ssa.trace   an execution trace of that compiler compiling cmd/compile/internal/ssa
#               (-traceprofile; many distinct PCs from a big binary)
# and uses testdata/large/go1.26-large.trace + its largegen binary (testdata/gen-large.sh,
# ~220 MB) when present. Then runs benches/symbols.rs on them.
#
# Usage: lsp/symbols/bench.sh [extra bench args, e.g. --pcs 200000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${GOBLOCK_BENCH_DIR:-/tmp/goblock-symbols-bench}
GO=${GO:-/usr/local/go/bin/go}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
mkdir -p "$DIR/tool"

if [ ! -x "$DIR/tool/compile" ]; then
  echo "building cmd/compile with DWARF..." >&2
  "$GO" build -o "$DIR/tool/compile" cmd/compile
fi
if [ ! -s "$DIR/ssa.trace" ]; then
  echo "tracing the compiler compiling cmd/compile/internal/ssa (a few minutes)..." >&2
  cat >"$DIR/toolexec.sh" <<SH
#!/bin/bash
tool=\$1; shift
case "\$tool" in */compile) exec "$DIR/tool/compile" "\$@" ;; *) exec "\$tool" "\$@" ;; esac
SH
  chmod +x "$DIR/toolexec.sh"
  "$GO" build -a -toolexec="$DIR/toolexec.sh" \
    -gcflags="cmd/compile/internal/ssa=-traceprofile=$DIR/ssa.trace -c=2" \
    -o /dev/null cmd/compile/internal/ssa
fi

ARGS=(--binary "$DIR/tool/compile" --go "$GO" --trace "$DIR/ssa.trace" --trace-binary "$DIR/tool/compile")
LARGE=$ROOT/testdata/large
if [ -s "$LARGE/go1.26-large.trace" ] && [ -x "$LARGE/go1.26-largegen.bin" ]; then
  ARGS+=(--trace "$LARGE/go1.26-large.trace" --trace-binary "$LARGE/go1.26-largegen.bin")
else
  echo "(no testdata/large/go1.26-large.trace: run testdata/gen-large.sh 1.26 for the 200 MB case)" >&2
fi
cd "$ROOT"
exec cargo bench -p goblock-symbols --bench symbols -- "${ARGS[@]}" "$@"
