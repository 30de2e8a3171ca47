#!/usr/bin/env bash
# npm-ci.sh: `npm ci` for the extension with Node 24, skipped while node_modules matches
# package-lock.json (a hash stamp in node_modules), so warm runs cost nothing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXT=$(cd "$HERE/.." && pwd)
source "$HERE/../../scripts/node24.sh"
want=$( (sha256sum "$EXT/package-lock.json"; node -v) | sha256sum | cut -c1-16)
have=$(cat "$EXT/node_modules/.goblock-lock" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "npm ci in editors/vscode" >&2
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" > "$EXT/node_modules/.goblock-lock"
fi
