#!/usr/bin/env bash
# e2e.sh: end-to-end test of the extension in a real VS Code (code-server 4.139.1, driven by
# Playwright through Debian's Chromium), offline. Installs what it needs once (cached under
# $GOBLOCK_CACHE, default ~/.cache/goblock-e2e), builds the platform .vsix with the goblock
# binary inside (scripts/package.sh), installs it with --install-extension, opens a fixture
# workspace (testdata/programs/blocking + a Go 1.26 trace) without any goblock.server.path,
# runs the checks in test/e2e/e2e.ts, saves a screenshot, prints "N passed, N failed" and
# exits non-zero when a check failed.
#   GOBLOCK_BIN   the goblock binary to ship in the .vsix (default: target/release/goblock,
#                 else target/debug/goblock; the e2e of editors/test.sh ships the debug build)
#   E2E_SCREENSHOT where to write the PNG (default: vscode.png in $GOBLOCK_SCREENSHOTS, see
#                 editors/scripts/screenshots.sh: a temporary dir unless GOBLOCK_UPDATE_SCREENSHOTS=1,
#                 then editors/screenshots/); vscode-capture.png and vscode-dump.png go beside it
#   E2E_PORT      code-server port on 127.0.0.1 (default 8765)
#   E2E_LSP_TRACE goblock.trace.server of the run (default messages; verbose logs every payload
#                 into the kept run dir's goblock output log)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXT=$(cd "$HERE/.." && pwd)
REPO=$(cd "$EXT/../.." && pwd)
PORT=${E2E_PORT:-8765}
# Another process on the port (a second run, a developer's code-server): take a free one.
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
fi
source "$EXT/../scripts/screenshots.sh"
SHOT=${E2E_SCREENSHOT:-$GOBLOCK_SCREENSHOTS/vscode.png}
t0=$(date +%s)
log() { echo "e2e [$(( $(date +%s) - t0 ))s] $*" >&2; }

CODE_SERVER=$("$HERE/install-code-server.sh")
source "$HERE/../../scripts/node24.sh"
log "code-server and Node $(node -v) ready"

BIN=${GOBLOCK_BIN:-}
if [ -z "$BIN" ]; then
  for b in "$REPO/target/release/goblock" "$REPO/target/debug/goblock"; do [ -x "$b" ] && { BIN=$b; break; }; done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "e2e: no goblock binary (build it, or set GOBLOCK_BIN)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
log "server: $BIN"

# The extension: dependencies (only when the lock file changed), the e2e script, and the
# platform .vsix with $BIN inside. E2E_NO_BUILD=1: use the out/ that editors/test.sh just built.
if [ "${E2E_NO_BUILD:-0}" != 1 ]; then
  "$HERE/npm-ci.sh"
  (cd "$EXT" && npx tsc -p . >/dev/null)
fi
VSIX=$(GOBLOCK_BIN=$BIN "$HERE/package.sh" 2>"$EXT/package.log") || { cat "$EXT/package.log" >&2; exit 1; }
rm -f "$EXT/package.log"
log "extension $(ls -s --block-size=K "$VSIX")"

# A fresh run dir: fixture workspace, user data, extensions, code-server config.
RUN=$(mktemp -d "${TMPDIR:-/tmp}/goblock-e2e.XXXXXX")
WS=$RUN/blocking
"$HERE/../../scripts/fixture.sh" "$WS"
mkdir -p "$WS/.vscode" "$RUN/ud/User" "$RUN/exts"
# minShare/hottest below the defaults (0.01/10) so that every site of this small program gets
# an Information diagnostic; main.go:109 (0.9 % of the blocking) then proves the settings
# reached the server.
# No goblock.server.path: the extension runs the binary inside the .vsix.
cat > "$WS/.vscode/settings.json" <<JSON
{ "goblock.trace.server": "${E2E_LSP_TRACE:-messages}",
  "goblock.diagnostics.minShare": 0.005, "goblock.diagnostics.hottest": 25 }
JSON
cat > "$RUN/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "update.mode": "none",
  "extensions.autoUpdate": false, "extensions.autoCheckUpdates": false,
  "security.workspace.trust.enabled": false, "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true, "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.tips.enabled": false, "window.restoreWindows": "none", "git.enabled": false,
  "editor.hover.delay": 300, "editor.hover.above": false, "editor.minimap.enabled": false, "workbench.colorTheme": "Default Dark Modern" }
JSON
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$RUN/cs-config.yaml"
# The lens test builds a test binary: keep Go's build cache (it defaults to XDG_CACHE_HOME), or
# every run compiles the standard library again (~2 min on 2 cores).
if command -v go >/dev/null; then GOCACHE=${GOCACHE:-$(go env GOCACHE)}; export GOCACHE; fi
export XDG_CONFIG_HOME=$RUN/xdg/config XDG_DATA_HOME=$RUN/xdg/data XDG_CACHE_HOME=$RUN/xdg/cache
CS=("$CODE_SERVER" --config "$RUN/cs-config.yaml" --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts")
"${CS[@]}" --install-extension "$VSIX" >"$RUN/install.log" 2>&1 || { cat "$RUN/install.log" >&2; exit 1; }

"${CS[@]}" --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override --ignore-last-opened "$WS" >"$RUN/code-server.log" 2>&1 &
CS_PID=$!
cleanup() {
  kill "$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
  if [ "${E2E_KEEP:-0}" = 1 ]; then echo "e2e: kept $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.5; done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" || { cat "$RUN/code-server.log" >&2; exit 1; }
log "code-server up on 127.0.0.1:$PORT"

# A net/http/pprof service for "Capture from Service…" (testdata/capture/service), started by
# that check only: it loads itself, and would slow every other check on a 2-core machine.
SERVICE_BIN=
if command -v go >/dev/null && (cd "$REPO/testdata/capture/service" && go build -o "$RUN/service" .); then
  SERVICE_BIN=$RUN/service
fi

mkdir -p "$(dirname "$SHOT")"
status=0
E2E_REPO=$REPO E2E_SERVICE_BIN=$SERVICE_BIN E2E_URL="http://127.0.0.1:$PORT/?folder=$WS" E2E_WORKSPACE=$WS E2E_SCREENSHOT=$SHOT E2E_ARTIFACTS=$RUN \
  E2E_MARKERS="$REPO/testdata/markers.tsv" node "$EXT/out/test/e2e/e2e.js" || status=$?
if [ $status -ne 0 ]; then
  echo "--- goblock output (extension host log) ---" >&2
  find "$RUN/ud/logs" -name '*goblock*' -exec tail -n 60 {} \; 2>/dev/null >&2 || true
  E2E_KEEP=1
fi
log "done"
exit $status
