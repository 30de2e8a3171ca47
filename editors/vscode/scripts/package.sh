#!/usr/bin/env bash
# package.sh: builds the platform .vsix — the extension with a goblock binary inside
# (extension/bin/goblock), for one VS Code target — so that `code --install-extension` is all a
# user needs. The extension runs the shipped binary when goblock.server.path is not set.
#
#   scripts/package.sh [TARGET]   TARGET as `vsce package --target` takes it: linux-x64,
#                                  linux-arm64, darwin-arm64, darwin-x64, win32-x64, …
#                                  (default: this machine's)
#   GOBLOCK_BIN=FILE               the binary to ship. Default for this machine's target: the
#                                  profile-guided release build (tests/pgo-build.sh, ~10 min;
#                                  5–10 % faster on large traces, docs/performance.md), or
#                                  `cargo build --release` when that cannot be built (a line says
#                                  why) or with GOBLOCK_PGO=0. For another target, build goblock
#                                  for it and pass it here.
# Writes editors/vscode/goblock-TARGET.vsix and prints its path. Needs Node 22+ (installed
# with editors/scripts/node24.sh when missing).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXT=$(cd "$HERE/.." && pwd)
REPO=$(cd "$EXT/../.." && pwd)

host_target() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN*) os=win32 ;;
    *) echo "package: unknown OS $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    armv7l) arch=armhf ;;
    *) echo "package: unknown CPU $(uname -m)" >&2; return 1 ;;
  esac
  echo "$os-$arch"
}
HOST=$(host_target)
TARGET=${1:-$HOST}
case "$TARGET" in
  win32-x64 | win32-arm64 | linux-x64 | linux-arm64 | linux-armhf | alpine-x64 | alpine-arm64 | darwin-x64 | darwin-arm64) ;;
  *) echo "package: unknown target '$TARGET' (linux-x64, linux-arm64, linux-armhf, alpine-x64, alpine-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64)" >&2; exit 2 ;;
esac
EXE=goblock
[[ $TARGET == win32-* ]] && EXE=goblock.exe

BIN=${GOBLOCK_BIN:-}
if [ -z "$BIN" ]; then
  if [ "$TARGET" != "$HOST" ]; then
    echo "package: $TARGET is not this machine ($HOST): build goblock for $TARGET and pass it as GOBLOCK_BIN" >&2
    exit 2
  fi
  if [ "${GOBLOCK_PGO:-1}" != 0 ]; then
    pgo_log=$(mktemp -t goblock-pgo.XXXXXX)
    if BIN=$("$REPO/tests/pgo-build.sh" 2>"$pgo_log" | tail -1) && [ -f "$BIN" ]; then
      echo "package: shipping the profile-guided build $BIN" >&2
      rm -f "$pgo_log"
    else
      echo "package: the profile-guided build failed ($(tail -1 "$pgo_log"); all of it in $pgo_log): shipping the plain release build" >&2
      BIN=
    fi
  fi
  if [ -z "$BIN" ]; then
    (cd "$REPO" && cargo build --release --bin goblock >&2)
    BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/goblock
  fi
fi
[ -f "$BIN" ] || { echo "package: $BIN does not exist" >&2; exit 2; }
if [ "$TARGET" = "$HOST" ]; then
  # The binary must run here, and be goblock.
  ver=$("$BIN" --version 2>&1) || { echo "package: $BIN --version failed: $ver" >&2; exit 1; }
  [[ $ver == goblock* ]] || { echo "package: $BIN is not goblock ($ver)" >&2; exit 1; }
fi

# Node 22+ (package.json devEngines): this machine's if new enough, else the cached Node 24.
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  source "$HERE/../../scripts/node24.sh"
fi
"$HERE/npm-ci.sh"
cd "$EXT"
rm -rf bin && mkdir bin
trap 'rm -rf "$EXT/bin"' EXIT
# Without its debug info the binary is a tenth of a debug build's size; a release build loses
# only its line tables (panics name no file:line).
if [ "$TARGET" = "$HOST" ] && command -v strip >/dev/null; then
  strip -o "bin/$EXE" "$BIN"
else
  cp "$BIN" "bin/$EXE"
fi
chmod 755 "bin/$EXE"
node scripts/build.mjs --production >&2
OUT=$EXT/goblock-$TARGET.vsix
npx vsce package --target "$TARGET" --no-dependencies --allow-missing-repository --skip-license -o "$OUT" >&2
echo "$OUT"
