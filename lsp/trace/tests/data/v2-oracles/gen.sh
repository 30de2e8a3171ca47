#!/usr/bin/env bash
# Regenerates the Go 1.26-tool `sync` oracles for the pre-1.26 new-format
# fixtures (testdata/gen.sh makes go126 oracles only for net and syscall):
#   go1.XX/BASE.sync.go126.raw.txt =
#     go tool trace -pprof=sync testdata/go1.XX/BASE.trace > x.pb && go tool pprof -raw x.pb
# with Go 1.26's go (/usr/local/go/bin/go, see testdata/install-go.sh).
# Usage: lsp/trace/tests/data/v2-oracles/gen.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../../.." && pwd)
GO=${GO126:-/usr/local/go/bin/go}
"$GO" version | grep -q 'go1\.26' || { echo "gen.sh: $GO is not Go 1.26" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for dir in "$REPO"/testdata/go1.22 "$REPO"/testdata/go1.23 "$REPO"/testdata/go1.25; do
	[ -d "$dir" ] || continue
	v=$(basename "$dir")
	rm -rf "${HERE:?}/$v"
	mkdir -p "$HERE/$v"
	for t in "$dir"/*.trace; do
		b=$(basename "$t" .trace)
		"$GO" tool trace -pprof=sync "$t" >"$TMP/x.pb"
		"$GO" tool pprof -raw "$TMP/x.pb" >"$HERE/$v/$b.sync.go126.raw.txt" 2>/dev/null
	done
done
# Go's own test traces that Go's reader accepts (testdata/gotree/*.expect = SUCCESS).
rm -rf "$HERE/gotree"
mkdir -p "$HERE/gotree"
for t in "$REPO"/testdata/gotree/*.trace; do
	b=$(basename "$t" .trace)
	grep -qx SUCCESS "${t%.trace}.expect" || continue
	for k in sync net syscall; do
		if "$GO" tool trace -pprof=$k "$t" >"$TMP/x.pb" 2>/dev/null; then
			"$GO" tool pprof -raw "$TMP/x.pb" >"$TMP/x.txt" 2>/dev/null || continue
			# Keep only non-empty profiles.
			if grep -q '^ *[0-9]' <(sed -n '/^Samples:/,/^Locations/p' "$TMP/x.txt" | tail -n +3); then
				mv "$TMP/x.txt" "$HERE/gotree/$b.$k.go126.raw.txt"
			fi
		fi
	done
done
"$GO" version >"$HERE/VERSION"
