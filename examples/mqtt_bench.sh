#!/usr/bin/env bash
# The MQTT broker example against mosquitto, with one load generator (examples/mqtt_load.rs):
# both brokers pinned to CPU 0 (one loaded at a time), the load on CPU 1, on loopback; the
# two measured in turn in every round, and each round's ratio printed, so that a ratio holds
# when the machine's speed drifts. Quote the median ratio.
#   examples/mqtt_bench.sh [ROUNDS]
# Needs mosquitto (Debian: apt-get install mosquitto) and taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release -q -p polywire-examples --example mqtt_broker --example mqtt_load
t=${CARGO_TARGET_DIR:-target}
load=$t/release/examples/mqtt_load
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
rate() { sed -E 's/.* = ([0-9]+) .*/\1/'; }

pp=$(port); mp=$(port)
taskset -c 0 "$t"/release/examples/mqtt_broker --listen 127.0.0.1:"$pp" >/dev/null & ppid=$!
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$mp" > "$dir/m.conf"
taskset -c 0 "$mosq" -c "$dir/m.conf" 2>/dev/null & mpid=$!
wait_port "$pp"; wait_port "$mp"
for r in $(seq "$rounds"); do
  for test in "fanout --subs 10 --msgs 50000" "qos1 --conns 10 --secs 3"; do
    a=$(taskset -c 1 $load --broker 127.0.0.1:"$pp" $test)
    b=$(taskset -c 1 $load --broker 127.0.0.1:"$mp" $test)
    echo "round $r polywire:  $a"
    echo "round $r mosquitto: $b"
    echo "round $r ratio ${test%% *}: $(awk -v a="$(echo "$a" | rate)" -v b="$(echo "$b" | rate)" 'BEGIN { printf "%.2f", a / b }')"
  done
done
echo "polywire:  $(taskset -c 1 $load --broker 127.0.0.1:"$pp" idle --conns 2000 --pid $ppid)"
echo "mosquitto: $(taskset -c 1 $load --broker 127.0.0.1:"$mp" idle --conns 2000 --pid $mpid)"
