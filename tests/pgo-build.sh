#!/usr/bin/env bash
# Profile-guided build of goblock (PGO): an instrumented build, a training run, and a build
# optimised with the recorded profile. Same code and results as `cargo build --release`, 5–10 %
# faster on large traces (docs/performance.md, "Profile-guided build").
#
#   tests/pgo-build.sh            # -> ${CARGO_TARGET_DIR:-target}/pgo/use/release/goblock
#
# Training (never the benchmarked file): `goblock report` on every committed trace (both
# formats, every Go version, with symbolization), and on a fresh 20 MB trace of the large-trace
# generator (testdata/programs/largegen, with another seed than the benchmark's), on one thread
# and on two: the committed traces are too small for the decoder's workers, which then get no
# profile. The generator is the one tests/bench.sh built, else built here with the `go` on PATH;
# without Go, a line says the training is the committed traces only. Needs rustup's llvm-tools
# (installed here if missing); ~6 min of compilation on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
out=$target/pgo
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  rustup component add llvm-tools >&2 || true
fi
[ -x "$profdata" ] || { echo "pgo-build.sh: no llvm-profdata at $profdata (rustup component add llvm-tools)" >&2; exit 1; }

raw=$out/raw
RUSTFLAGS="-Cprofile-generate=$raw" CARGO_TARGET_DIR=$out/gen cargo build --release --quiet --bin goblock
rm -rf "$raw" && mkdir -p "$raw" # the build's own build scripts wrote profiles too
gen=$out/gen/release/goblock

n=0
while IFS= read -r t; do
  "$gen" report --categories all "$t" >/dev/null 2>&1 || true
  n=$((n + 1))
done < <(find testdata -name '*.trace' -not -path 'testdata/large/*' | sort)
echo "pgo-build.sh: trained on $n committed traces" >&2
largegen=testdata/large/go1.26-largegen.bin
if [ ! -x "$largegen" ] && command -v go >/dev/null; then
  largegen=$out/largegen.bin
  (cd testdata/programs/largegen && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$largegen" .) >&2 ||
    largegen=testdata/large/go1.26-largegen.bin
fi
if [ -x "$largegen" ]; then
  GOMAXPROCS=2 "$largegen" -mb 20 -seed 2 -o "$out/train.trace" >/dev/null
  # As users run it (default categories) and with every category, on two threads and on one.
  pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)
  for cats in "" "--categories all"; do
    # shellcheck disable=SC2086 # $cats is empty or two words
    "$gen" report --format json --no-binary $cats "$out/train.trace" >/dev/null
    # shellcheck disable=SC2086
    "${pin[@]}" "$gen" report --format json --no-binary $cats "$out/train.trace" >/dev/null
  done
  rm -f "$out/train.trace"
  echo "pgo-build.sh: trained on a fresh 20 MB trace of $largegen" >&2
else
  echo "pgo-build.sh: no large-trace generator (testdata/gen-large.sh not run, and no go on PATH or its build failed): trained on committed traces only, which leaves the decoder's workers without a profile" >&2
fi

"$profdata" merge -o "$out/goblock.profdata" "$raw"
RUSTFLAGS="-Cprofile-use=$out/goblock.profdata" CARGO_TARGET_DIR=$out/use cargo build --release --quiet --bin goblock
echo "$out/use/release/goblock"
