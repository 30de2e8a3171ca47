#!/usr/bin/env bash
# Regenerates testdata/gotree/: the execution-trace test data shipped in the Go
# source tree (BSD-licensed, see LICENSE-GO), converted to binary where needed.
#
#  <name>.trace + <name>.expect   from Go 1.26 $GOROOT/src/internal/trace/testdata/tests/<name>.test
#                                  (txtar: "-- expect --" = SUCCESS or an error regexp, "-- trace --" =
#                                  text format), the text converted with Go 1.26's internal/trace/raw
#                                  (the gotraceraw command's text2bytes mode).
#  cmd-trace-go122.trace          from Go 1.26 $GOROOT/src/cmd/trace/testdata/go122.test (a real runtime
#                                  trace in text format used by cmd/trace's tests; no expect section there,
#                                  cmd/trace's tests parse it successfully, so .expect = SUCCESS).
#  tracev1/<name>                 old-format (Go 1.5-1.21) binaries, copied verbatim: Go 1.26
#                                  src/internal/trace/internal/tracev1/testdata/* and, from Go 1.22
#                                  src/internal/trace/testdata/, stress_1_5_unordered (must fail: time
#                                  stamps out of order) and the small pre-1.11 http_* / stress_start_stop_*
#                                  files (versions that 1.23+ tools reject) plus http_1_11_good.
#
# Go 1.26 no longer ships src/internal/trace/testdata/cmd/gotraceraw, so the Go 1.23 copy of that
# command's main.go is compiled against Go 1.26's internal/trace/raw by adding it to the Go 1.26 tree
# through a `go run -overlay` (the tree itself is not modified).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
bash "$HERE/../install-go.sh"

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
GO=/usr/local/go/bin/go
GOROOT126=$("$GO" env GOROOT)
case "$("$GO" version)" in "go version go1.26."*) ;; *) echo "gotree/gen.sh: $GO is not Go 1.26" >&2; exit 1 ;; esac
GOROOT122=/usr/lib/go-1.22
GOTRACERAW_SRC=/usr/lib/go-1.23/src/internal/trace/testdata/cmd/gotraceraw/main.go

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Build gotraceraw inside the Go 1.26 tree via an overlay.
PKG=$GOROOT126/src/internal/trace/testdata/cmd/gotraceraw
printf '{"Replace":{"%s/main.go":"%s"}}\n' "$PKG" "$GOTRACERAW_SRC" >"$TMP/overlay.json"
(cd "$GOROOT126/src" && "$GO" build -overlay="$TMP/overlay.json" -o "$TMP/gotraceraw" ./internal/trace/testdata/cmd/gotraceraw)

find "$HERE" -maxdepth 1 \( -name '*.trace' -o -name '*.expect' \) -delete
rm -rf "$HERE/tracev1"

for t in "$GOROOT126"/src/internal/trace/testdata/tests/*.test; do
	name=$(basename "$t" .test)
	awk '/^-- expect --/{f=1;next} /^-- /{f=0} f' "$t" >"$HERE/$name.expect"
	awk '/^-- trace --/{f=1;next} /^-- /{f=0} f' "$t" | "$TMP/gotraceraw" text2bytes >"$HERE/$name.trace"
done

"$TMP/gotraceraw" text2bytes <"$GOROOT126/src/cmd/trace/testdata/go122.test" >"$HERE/cmd-trace-go122.trace"
echo SUCCESS >"$HERE/cmd-trace-go122.expect"

mkdir -p "$HERE/tracev1"
cp "$GOROOT126"/src/internal/trace/internal/tracev1/testdata/* "$HERE/tracev1/"
for f in stress_1_5_unordered http_1_5_good http_1_7_good http_1_9_good http_1_10_good http_1_11_good \
	stress_start_stop_1_5_good stress_start_stop_1_7_good stress_start_stop_1_9_good stress_start_stop_1_10_good; do
	cp "$GOROOT122/src/internal/trace/testdata/$f" "$HERE/tracev1/"
done

cp "$GOROOT126/LICENSE" "$HERE/LICENSE-GO"
{
	echo "Go 1.26 tree: $("$GO" version)"
	echo "Go 1.22 tree: $("$GOROOT122/bin/go" version)"
	echo "gotraceraw main.go: $GOTRACERAW_SRC ($("/usr/lib/go-1.23/bin/go" version))"
} >"$HERE/SOURCES"
