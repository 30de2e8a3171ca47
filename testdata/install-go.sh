#!/usr/bin/env bash
# Installs the Go toolchains used to (re)generate the goblock test fixtures:
#   - Go 1.26 (expected at /usr/local/go; shipped with the machine image)
#   - Debian golang-1.19-go (bookworm) and golang-1.21/1.22/1.23-go (bookworm-backports),
#     installed under /usr/lib/go-1.XX
#   - Go 1.27.3 fetched through the Go module proxy (GOTOOLCHAIN=go1.27.3), lands in
#     $(go env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64
# Idempotent; returns quickly when everything is already installed.
set -euo pipefail

GO127=go1.27.3
DEB_VERSIONS="1.19 1.21 1.22 1.23"

have_all() {
  local v
  for v in $DEB_VERSIONS; do
    [ -x "/usr/lib/go-$v/bin/go" ] || return 1
  done
  [ -x /usr/local/go/bin/go ] || return 1
  local modcache
  modcache=$(/usr/local/go/bin/go env GOMODCACHE)
  [ -x "$modcache/golang.org/toolchain@v0.0.1-$GO127.linux-amd64/bin/go" ] || return 1
}

if have_all; then
  exit 0
fi

if [ ! -x /usr/local/go/bin/go ]; then
  echo "install-go.sh: /usr/local/go/bin/go (Go 1.26) is missing; it comes with the machine image" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

need_apt=0
for v in $DEB_VERSIONS; do
  [ -x "/usr/lib/go-$v/bin/go" ] || need_apt=1
done

if [ "$need_apt" = 1 ]; then
  # bookworm-backports on the same mirror as the existing bookworm entry.
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    golang-1.19-go \
    golang-1.21-go/bookworm-backports \
    golang-1.22-go/bookworm-backports \
    golang-1.23-go/bookworm-backports
fi

# Go 1.27 through the module proxy (downloads golang.org/toolchain into the module cache).
GOTOOLCHAIN=$GO127 /usr/local/go/bin/go version >/dev/null

have_all || { echo "install-go.sh: installation incomplete" >&2; exit 1; }
