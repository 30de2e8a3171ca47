#!/usr/bin/env bash
# screenshot.sh WORKSPACE OUT.png: runs Neovim with the plugin in a detached tmux session on
# the fixture workspace (screenshot_init.lua), captures the screen with its colours, renders it
# to HTML (ansi2html.py) and takes a PNG of that with headless Chromium.
# Env: NVIM (the nvim binary), GOBLOCK_BIN (the server).
set -euo pipefail
WS=${1:?usage: screenshot.sh WORKSPACE OUT.png}
OUT=${2:?usage: screenshot.sh WORKSPACE OUT.png}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COLS=150 ROWS=46
TMP=$(mktemp -d)
SOCK="$TMP/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
export GOBLOCK_SHOT_READY="$TMP/ready"
tmux -S "$SOCK" -f /dev/null new-session -d -x $COLS -y $ROWS -c "$WS" \
  -e "GOBLOCK_BIN=$GOBLOCK_BIN" -e "GOBLOCK_SHOT_READY=$GOBLOCK_SHOT_READY" -e COLORTERM=truecolor \
  -e "XDG_STATE_HOME=$TMP/state" -e "XDG_CACHE_HOME=$TMP/cache" \
  "$NVIM --clean -u $HERE/screenshot_init.lua"
tmux -S "$SOCK" set -g default-terminal tmux-256color >/dev/null
for _ in $(seq 1 150); do [ -s "$GOBLOCK_SHOT_READY" ] && break; sleep 0.5; done
state=$(cat "$GOBLOCK_SHOT_READY" 2>/dev/null || echo 'timed out')
tmux -S "$SOCK" capture-pane -e -p -t 0 > "$TMP/screen.ansi"
if [ "$state" != ok ]; then
  echo "nvim screenshot: $state" >&2
  sed 's/\x1b\[[0-9;:]*m//g' "$TMP/screen.ansi" >&2
  exit 1
fi
python3 "$HERE/ansi2html.py" "$TMP/screen.ansi" "$TMP/screen.html" "goblock in Neovim"
mkdir -p "$(dirname "$OUT")"
# 15px DejaVu Sans Mono: 9.03 px a column, 18.75 px a row, plus the page padding.
W=$(( COLS * 903 / 100 + 30 )) H=$(( ROWS * 1875 / 100 + 24 ))
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$TMP/chrome" \
  --window-size=$W,$H --screenshot="$OUT" "file://$TMP/screen.html" >/dev/null 2>&1
[ -s "$OUT" ] || { echo "nvim screenshot: chromium wrote no $OUT" >&2; exit 1; }
echo "$OUT"
