#!/usr/bin/env bash
# Regenerates the -trimpath fixture with a dependency (module@version paths):
#   app.bin.zst  go build -trimpath -mod=vendor of src/app (requires example.com/dep v1.2.3,
#                vendored), zstd -19 --long=27
#   app.trace    ./app.bin app.trace (runtime/trace; goroutines block in the dependency: sub.Recv)
# Paths recorded: example.com/app/main.go, example.com/dep@v1.2.3/sub/sub.go, runtime/….
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GO=${GO:-/usr/local/go/bin/go}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -a "$HERE/src/app" "$TMP/app"
(cd "$TMP/app" && GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0 "$GO" build -trimpath -o app.bin . && ./app.bin app.trace)
zstd -19 --long=27 -q -f "$TMP/app/app.bin" -o "$HERE/app.bin.zst"
cp "$TMP/app/app.trace" "$HERE/app.trace"
"$GO" version >"$HERE/VERSION"
