#!/usr/bin/env bash
# fixture.sh DIR: lays out the editor tests' fixture workspace in DIR: the Go module of
# testdata/programs/blocking, its Go 1.26 trace (blocking.trace) and, when zstd is there, the
# traced binary (blocking.bin) for DWARF symbolization.
set -euo pipefail
DIR=${1:?usage: fixture.sh DIR}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GOV=${GOBLOCK_FIXTURE_GO:-go1.26}
mkdir -p "$DIR"
cp "$REPO"/testdata/programs/blocking/*.go "$REPO/testdata/programs/blocking/go.mod" "$DIR/"
cp "$REPO/testdata/$GOV/blocking.trace" "$DIR/"
if command -v zstd >/dev/null && [ -f "$REPO/testdata/$GOV/blocking.bin.zst" ]; then
  zstd -q -f -d "$REPO/testdata/$GOV/blocking.bin.zst" -o "$DIR/blocking.bin"
fi
# The trace is newer than the sources, as after a real run (the status item checks this).
touch -d '-1 minute' "$DIR"/*.go "$DIR/go.mod"
