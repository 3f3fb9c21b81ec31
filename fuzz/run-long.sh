#!/usr/bin/env bash
# A long fuzzing run: every target (or those named) for SECONDS seconds each (default 600),
# growing a corpus under fuzz/corpus/<target> (not checked in) from the seeds and the
# regression inputs, and a table of executions, speed, coverage and corpus size at the end.
# A failing input is left under fuzz/artifacts/<target>/; minimise it with
# `cargo fuzz tmin --fuzz-dir fuzz <target> <input>` and check it in under
# fuzz/regressions/<target>/ (tests/regressions.rs replays it).
#
#   fuzz/run-long.sh [SECONDS [TARGET...]]
#   SANITIZER=none fuzz/run-long.sh 600    # no AddressSanitizer: faster, for safe code
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
export RUSTC_BOOTSTRAP=1
san=(--sanitizer "${SANITIZER:-address}")
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
cargo fuzz build --fuzz-dir fuzz "${san[@]}" || exit 1
logs=fuzz/artifacts/logs
mkdir -p "$logs"
status=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  dirs=("fuzz/corpus/$t" "fuzz/seeds/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  cargo fuzz run --fuzz-dir fuzz "${san[@]}" "$t" "${dirs[@]}" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$logs/$t.log" 2>&1 || status=1
done
printf '%-26s %12s %9s %7s %7s %8s  %s\n' target runs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log="$logs/$t.log"
  runs=$(awk '/^stat::number_of_executed_units/ { print $NF }' "$log")
  speed=$(awk '/^stat::average_exec_per_sec/ { print $NF }' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  if grep -q 'Test unit written' "$log"; then result="FAILED: $(grep -o 'fuzz/artifacts/[^ ]*' "$log" | tail -1)"; else result=ok; fi
  printf '%-26s %12s %9s %7s %7s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$result"
done
exit $status
