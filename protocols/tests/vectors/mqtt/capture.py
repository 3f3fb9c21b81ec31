#!/usr/bin/env python3
"""Records real MQTT byte streams: mosquitto's own clients (mosquitto_pub, mosquitto_sub)
talking to a mosquitto broker, through a proxy that writes down every byte each way.

    python3 protocols/tests/vectors/mqtt/capture.py protocols/tests/vectors/mqtt/streams.txt

needs Debian's `mosquitto` and `mosquitto-clients`. Output: one block per connection,
`# name`, then lines `c <hex>` (client to broker) and `s <hex>` (broker to client), each the
bytes of one read, in order. The test `mqtt_codec.rs` decodes every stream with the codec
generated from `wire/mqtt.wire` and encodes the packets back to the same bytes.
"""
import os, socket, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

broker_port, proxy_port = free_port(), free_port()
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
conf.close()
broker = subprocess.Popen(["mosquitto", "-c", conf.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", broker_port)).close(); break
    except OSError:
        time.sleep(0.05)

records = []  # (name, [(dir, bytes)])
current = {"name": None}
lock = threading.Lock()

def pump(src, dst, direction, log):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if not data:
            try: dst.shutdown(socket.SHUT_WR)
            except OSError: pass
            return
        with lock:
            log.append((direction, data))
        dst.sendall(data)

def serve():
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", proxy_port)); ls.listen(16)
    while True:
        c, _ = ls.accept()
        b = socket.create_connection(("127.0.0.1", broker_port))
        log = []
        with lock:
            records.append((current["name"], log))
        threading.Thread(target=pump, args=(c, b, "c", log), daemon=True).start()
        threading.Thread(target=pump, args=(b, c, "s", log), daemon=True).start()

threading.Thread(target=serve, daemon=True).start()
time.sleep(0.2)
P = ["-h", "127.0.0.1", "-p", str(proxy_port)]

def run(name, *cmds):
    """Runs the commands of one scenario (a list of argv, the first ones in the background)."""
    current["name"] = name
    procs = []
    for argv in cmds[:-1]:
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
        time.sleep(0.4)
    subprocess.run(cmds[-1], check=True, stdout=subprocess.DEVNULL, timeout=10)
    for p in procs:
        p.wait(timeout=10)
    time.sleep(0.3)

for v in ["mqttv311", "mqttv5"]:
    extra5 = v == "mqttv5"
    sub = ["mosquitto_sub", *P, "-V", v, "-i", f"sub-{v}", "-t", "a/#", "-t", "b/+/c", "-q", "2", "-C", "4", "-v"]
    if extra5:
        sub += ["-D", "connect", "session-expiry-interval", "60", "-D", "subscribe", "user-property", "who", "test"]
    pubs = []
    for q in ["0", "1", "2"]:
        argv = ["mosquitto_pub", *P, "-V", v, "-i", f"pub{q}-{v}", "-t", "a/x", "-m", f"hello qos {q}", "-q", q]
        if extra5:
            argv += ["-D", "publish", "user-property", "k", "v", "-D", "publish", "content-type", "text/plain",
                     "-D", "publish", "message-expiry-interval", "30"]
        pubs.append(argv)
    retained = ["mosquitto_pub", *P, "-V", v, "-i", f"ret-{v}", "-t", "b/r/c", "-m", "kept", "-r", "-q", "1",
                "-u", "user", "-P", "secret", "--will-topic", "a/will", "--will-payload", "gone", "--will-qos", "1"]
    run(f"{v} subscriber and publishers", sub, *pubs, retained)
    clear = ["mosquitto_pub", *P, "-V", v, "-i", f"clr-{v}", "-t", "b/r/c", "-n", "-r"]
    run(f"{v} clear retained", clear)

broker.terminate(); broker.wait(timeout=5)
os.unlink(conf.name)
with open(sys.argv[1], "w") as out:
    out.write("# Captured by capture.py: mosquitto " + subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[0] + "\n")
    for i, (name, log) in enumerate(records):
        out.write(f"\n# {name} (connection {i})\n")
        for d, data in log:
            out.write(f"{d} {data.hex()}\n")
print(f"{len(records)} connections written to {sys.argv[1]}")
