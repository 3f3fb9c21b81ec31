#!/usr/bin/env bash
# Smoke run of every fuzz target, for CI: builds the targets (cargo-fuzz: libFuzzer with
# AddressSanitizer) on the stable toolchain, then runs each for SECONDS seconds (default
# 10), starting from its seeds (fuzz/seeds/<target>) and regression inputs
# (fuzz/regressions/<target>, replayed first). A failure prints libFuzzer's log, leaves the
# input under fuzz/artifacts/<target>/ and exits non-zero.
#
#   fuzz/smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz passes unstable flags (-Zsanitizer, -Cpasses=sancov-module); a stable rustc
# accepts them when told it is bootstrapping itself.
export RUSTC_BOOTSTRAP=1
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
start=$SECONDS
cargo fuzz build --fuzz-dir fuzz
echo "fuzz: targets built in $((SECONDS - start)) s"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $(cargo fuzz list --fuzz-dir fuzz); do
  mkdir -p "$work/$t"
  dirs=("$work/$t" "fuzz/seeds/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  if ! cargo fuzz run --fuzz-dir fuzz "$t" "${dirs[@]}" -- \
      -max_total_time="$secs" -print_final_stats=1 >"$work/$t.log" 2>&1; then
    cat "$work/$t.log"
    echo "fuzz: $t FAILED"
    exit 1
  fi
  runs=$(awk '/^stat::number_of_executed_units/ { print $NF }' "$work/$t.log")
  echo "fuzz: $t: $runs runs in $secs s, no failure"
done
