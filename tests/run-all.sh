#!/usr/bin/env bash
# Runs every test of goblock on a fresh machine: installs what the tests need
# (Rust components; the editors' tools are installed by editors/test.sh),
# checks formatting and lints, runs the Rust test suites (decoder against Go's
# own tools' outputs, symbolizer, analysis, report, language server), then the
# editor clients' tests (unit tests, headless Neovim, real VS Code).
#
#   tests/run-all.sh            everything
#   tests/run-all.sh --update-screenshots
#                               also rewrites editors/screenshots/*.png (else the editor tests
#                               write their screenshots to a temporary dir: a run changes no file)
#   GOBLOCK_SKIP_EDITORS=1 ...  Rust only
set -euo pipefail
for a in "$@"; do
  case $a in
  --update-screenshots) export GOBLOCK_UPDATE_SCREENSHOTS=1 ;;
  *) echo "usage: tests/run-all.sh [--update-screenshots]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
rustup component add clippy rustfmt >/dev/null 2>&1 || true
cargo --version

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

if [ "${GOBLOCK_SKIP_EDITORS:-}" != 1 ]; then
  # Neovim for the Rust tests that drive it (tests/linetruth_nvim.rs, lsp/server/tests/nvim.rs):
  # they fail instead of skipping when it is missing.
  step "neovim"
  editors/scripts/apt-deps.sh
  source editors/scripts/nvim.sh
  export GOBLOCK_REQUIRE_NVIM=1
  "$NVIM" --version | head -1
fi

step "cargo test"
log=$(mktemp)
cargo test --workspace 2>&1 | tee "$log"
passed=$(grep -Eo 'test result: ok. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
rm -f "$log"
echo "rust: $passed tests passed"

if [ "${GOBLOCK_SKIP_EDITORS:-}" != 1 ] && [ -x editors/test.sh ]; then
  step "editors"
  editors/test.sh
fi

step "done"
