#!/usr/bin/env bash
# install-code-server.sh: installs, once and cached, what the VS Code end-to-end test needs:
# Debian packages (editors/scripts/apt-deps.sh: toolchain for code-server's native modules,
# libkrb5-dev for `kerberos`, Chromium for Playwright), Node 24 (editors/scripts/node24.sh)
# and code-server from npm.
# The cache dir is $GOBLOCK_CACHE (default ~/.cache/goblock-e2e). Prints the code-server path.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CODE_SERVER_VERSION=4.139.1

"$HERE/../../scripts/apt-deps.sh"

# shellcheck source=../../scripts/node24.sh
source "$HERE/../../scripts/node24.sh"
CS_DIR="$GOBLOCK_CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ] || [ ! -f "$CS_DIR/.complete" ]; then
  echo "e2e: installing code-server $CODE_SERVER_VERSION into $CS_DIR (builds native modules, ~6 min)" >&2
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  echo '{"private":true}' > "$CS_DIR/package.json"
  # JOBS: node-gyp's parallel make; the postinstall compiles ~10 native modules.
  (cd "$CS_DIR" && npm_config_nodedir="$NODE24_DIR" JOBS=2 npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2)
  touch "$CS_DIR/.complete"
fi
echo "$CS_DIR/node_modules/.bin/code-server"
