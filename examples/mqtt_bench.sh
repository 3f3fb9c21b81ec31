#!/usr/bin/env bash
# The MQTT broker example against mosquitto, with one load generator (examples/mqtt_load.rs):
# each broker pinned to CPU 0, the load on CPU 1, one after the other, on loopback.
#   examples/mqtt_bench.sh [ROUNDS]
# Needs mosquitto (Debian: apt-get install mosquitto) and taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release -q -p polywire-examples --example mqtt_broker --example mqtt_load
load=target/release/examples/mqtt_load
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

run() { # name start-command...
  local name=$1; shift
  local p; p=$(port)
  "$@" "$p" &
  local pid=$!
  wait_port "$p"
  for r in $(seq "$rounds"); do
    echo "$name round $r: $(taskset -c 1 $load --broker 127.0.0.1:"$p" fanout --subs 10 --msgs 50000)"
    echo "$name round $r: $(taskset -c 1 $load --broker 127.0.0.1:"$p" qos1 --conns 10 --secs 3)"
  done
  echo "$name: $(taskset -c 1 $load --broker 127.0.0.1:"$p" idle --conns 2000 --pid $pid)"
  kill $pid; wait $pid 2>/dev/null || true
}
polywire() { exec taskset -c 0 target/release/examples/mqtt_broker --listen 127.0.0.1:"$1" >/dev/null; }
mosquitto_() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n' "$1" > "$dir/m.conf"
  exec taskset -c 0 "$mosq" -c "$dir/m.conf" 2>/dev/null
}
run polywire polywire
run mosquitto mosquitto_
