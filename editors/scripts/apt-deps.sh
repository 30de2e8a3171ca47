#!/usr/bin/env bash
# apt-deps.sh: installs the Debian packages the editor tests need, once (a dpkg check makes
# warm runs free): a toolchain and libkrb5-dev for code-server's native modules, Chromium for
# Playwright and the Neovim screenshot, tmux, fonts (Symbola has the ⏸ of the inlay hints),
# zstd for the fixture binary.
set -euo pipefail
pkgs=(build-essential python3 python3-venv pkg-config libkrb5-dev chromium tmux
      fonts-dejavu-core fonts-symbola zstd curl)
dpkg -s "${pkgs[@]}" >/dev/null 2>&1 && exit 0
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "editors: installing Debian packages: ${pkgs[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
