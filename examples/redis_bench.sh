#!/usr/bin/env bash
# The Redis server example against redis-server, with redis-benchmark: both servers pinned
# to CPU 0 (one loaded at a time), redis-benchmark on CPU 1, on loopback; the two measured
# in turn in every round (which goes first alternates), and each round's ratios printed, so
# that a ratio holds when the machine's speed drifts. Quote the median ratio.
#   examples/redis_bench.sh [ROUNDS] [REQUESTS]
# The example is built with the `perf` profile (release with fat LTO and one codegen unit,
# as a service's production build would have; the README's load figures use it too).
# Needs redis-server and redis-benchmark (Debian: apt-get install redis-server
# redis-tools) and taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
n=${2:-1000000}
cargo build --profile perf -q -p polywire-examples --example redis_server
t=${CARGO_TARGET_DIR:-target}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

pp=$(port); rp=$(port)
taskset -c 0 "$t"/perf/examples/redis_server --listen 127.0.0.1:"$pp" >/dev/null &
taskset -c 0 redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
wait_port "$pp"; wait_port "$rp"
# "SET",rps,p50 and "GET",rps,p50 of one run against port $1 with pipeline $2.
bench() {
  taskset -c 1 redis-benchmark -p "$1" -t set,get -n "$3" -c 50 -P "$2" --csv 2>/dev/null |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); printf "%s %s %s\n", $1, $2, $5 }'
}
ratios=()
for r in $(seq "$rounds"); do
  for p in 16 1; do
    reqs=$n; [ "$p" = 1 ] && reqs=$((n / 5))
    if [ $((r % 2)) = 1 ]; then a=$(bench "$pp" "$p" "$reqs"); b=$(bench "$rp" "$p" "$reqs")
    else b=$(bench "$rp" "$p" "$reqs"); a=$(bench "$pp" "$p" "$reqs"); fi
    while read -r test rps p50; do
      read -r _ rrps rp50 <<<"$(echo "$b" | grep "^$test ")"
      line=$(awk -v a="$rps" -v b="$rrps" -v pa="$p50" -v pb="$rp50" \
        'BEGIN { printf "rps %.0f vs %.0f (%.2fx)  p50 %.3f vs %.3f ms (%.2fx)", a, b, a / b, pa, pb, pa / pb }')
      echo "round $r -P $p $test: polywire vs redis-server: $line"
      ratios+=("-P$p $test $(awk -v a="$rps" -v b="$rrps" -v pa="$p50" -v pb="$rp50" 'BEGIN { printf "%.3f %.3f", a / b, pa / pb }')")
    done <<<"$a"
  done
done
echo "median ratios (polywire / redis-server) over $rounds rounds:"
printf '%s\n' "${ratios[@]}" | sort -k1,2 | awk '
  { key = $1 " " $2; rps[key] = rps[key] " " $3; p50[key] = p50[key] " " $4; keys[key] = 1 }
  function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { for (k in keys) printf "  %-10s requests/s %.2fx   p50 latency %.2fx\n", k, median(rps[k]), median(p50[k]) }'
