# screenshots.sh (sourced): where the editor tests write their screenshots. The tracked ones in
# editors/screenshots/ are rewritten only when asked (GOBLOCK_UPDATE_SCREENSHOTS=1, which
# `tests/run-all.sh --update-screenshots` and `editors/test.sh --update-screenshots` set); else a
# directory under $TMPDIR, so that a test run leaves the checkout as it was.
# Sets and exports GOBLOCK_SCREENSHOTS (an existing directory).
_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${GOBLOCK_UPDATE_SCREENSHOTS:-}" = 1 ]; then
  GOBLOCK_SCREENSHOTS=$_repo/editors/screenshots
else
  GOBLOCK_SCREENSHOTS=${GOBLOCK_SCREENSHOTS:-${TMPDIR:-/tmp}/goblock-screenshots}
fi
mkdir -p "$GOBLOCK_SCREENSHOTS"
export GOBLOCK_SCREENSHOTS
unset _repo
