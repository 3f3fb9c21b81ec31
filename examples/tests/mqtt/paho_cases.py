"""paho-mqtt 2.x against an MQTT broker: the cases examples/tests/mqtt_broker.rs runs.

Usage: paho_cases.py HOST PORT CASE...   (cases: basic, retained, wildcards, fanout1,
fanout2, will, keepalive, websocket; each under 3.1.1 and 5.0). Prints `ok CASE VERSION`
per case; any failure raises (a non-zero exit with the reason).
"""

import socket
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

HOST, PORT = sys.argv[1], int(sys.argv[2])
VERSIONS = {"3.1.1": mqtt.MQTTv311, "5.0": mqtt.MQTTv5}
TIMEOUT = 20.0


class Box:
    """A paho client whose received messages are collected."""

    def __init__(self, name, version, transport="tcp", will=None):
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=name,
            protocol=version,
            transport=transport,
        )
        if transport == "websockets":
            self.c.ws_set_options(path="/mqtt")
        if will:
            self.c.will_set(*will)
        self.msgs = []
        self.lock = threading.Condition()
        self.connected = threading.Event()
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, u, f, rc, p: self.connected.set()
        self.subacks = {}
        self.c.on_subscribe = self._on_subscribe

    def _on_message(self, c, u, m):
        with self.lock:
            self.msgs.append((m.topic, bytes(m.payload), m.qos, bool(m.retain)))
            self.lock.notify_all()

    def _on_subscribe(self, c, u, mid, codes, props):
        with self.lock:
            self.subacks[mid] = [int(getattr(x, "value", x)) for x in codes]
            self.lock.notify_all()

    def connect(self, version):
        if version == mqtt.MQTTv5:
            self.c.connect(HOST, PORT, keepalive=30, clean_start=True)
        else:
            self.c.connect(HOST, PORT, keepalive=30)
        self.c.loop_start()
        if not self.connected.wait(TIMEOUT):
            raise AssertionError("no CONNACK")
        return self

    def subscribe(self, topic, qos):
        rc, mid = self.c.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        self.wait(lambda: mid in self.subacks, f"SUBACK for {topic}")
        return self.subacks[mid]

    def wait(self, pred, what):
        end = time.monotonic() + TIMEOUT
        with self.lock:
            while not pred():
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.msgs[:5]}... ({len(self.msgs)})")
                self.lock.wait(left)

    def publish(self, topic, payload, qos, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(TIMEOUT)
        assert info.is_published(), f"{topic} not acknowledged"

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


def case_basic(v, tag):
    sub = Box(f"basic-sub-{tag}", v).connect(v)
    assert sub.subscribe(f"basic/{tag}/#", 2) == [2]
    pub = Box(f"basic-pub-{tag}", v).connect(v)
    for q in (0, 1, 2):
        pub.publish(f"basic/{tag}/q{q}", f"m{q}".encode(), q)
    sub.wait(lambda: len(sub.msgs) == 3, "3 messages")
    got = sorted(sub.msgs)
    want = [(f"basic/{tag}/q{q}", f"m{q}".encode(), q, False) for q in (0, 1, 2)]
    assert got == want, got
    pub.stop()
    sub.stop()


def case_retained(v, tag):
    pub = Box(f"ret-pub-{tag}", v).connect(v)
    pub.publish(f"ret/{tag}/a", b"kept", 1, retain=True)
    sub = Box(f"ret-sub-{tag}", v).connect(v)
    sub.subscribe(f"ret/{tag}/+", 1)
    sub.wait(lambda: len(sub.msgs) == 1, "the retained message")
    assert sub.msgs[0] == (f"ret/{tag}/a", b"kept", 1, True), sub.msgs
    # An empty retained message deletes it.
    pub.publish(f"ret/{tag}/a", b"", 1, retain=True)
    late = Box(f"ret-late-{tag}", v).connect(v)
    late.subscribe(f"ret/{tag}/#", 1)
    time.sleep(0.3)
    assert late.msgs == [], late.msgs
    for b in (pub, sub, late):
        b.stop()


def case_wildcards(v, tag):
    sub = Box(f"wild-sub-{tag}", v).connect(v)
    sub.subscribe(f"w/{tag}/+/x", 1)
    sub.subscribe(f"w/{tag}/y/#", 1)
    pub = Box(f"wild-pub-{tag}", v).connect(v)
    for t in ("a/x", "b/x", "a/z", "y", "y/1/2", "a/x/deeper"):
        pub.publish(f"w/{tag}/{t}", t.encode(), 1)
    pub.publish(f"w/{tag}/end/x", b"end", 1)
    sub.wait(lambda: any(m[1] == b"end" for m in sub.msgs), "the last message")
    got = sorted(m[1] for m in sub.msgs)
    assert got == sorted([b"a/x", b"b/x", b"y", b"y/1/2", b"end"]), got
    pub.stop()
    sub.stop()


def fanout(v, tag, qos):
    n_subs, n_msgs = 10, 1000
    subs = [Box(f"fan{qos}-{tag}-{i}", v).connect(v) for i in range(n_subs)]
    for s in subs:
        assert s.subscribe(f"fan/{tag}/{qos}", qos) == [qos]
    pub = Box(f"fan{qos}-pub-{tag}", v).connect(v)
    infos = [pub.c.publish(f"fan/{tag}/{qos}", str(i).encode(), qos=qos) for i in range(n_msgs)]
    for info in infos:
        info.wait_for_publish(TIMEOUT)
    for s in subs:
        s.wait(lambda s=s: len(s.msgs) >= n_msgs, f"{n_msgs} messages")
    time.sleep(0.2)
    for s in subs:
        got = [int(m[1]) for m in s.msgs]
        # None lost, none duplicated, in the publisher's order.
        assert got == list(range(n_msgs)), (len(got), got[:10])
        assert all(m[2] == qos for m in s.msgs)
    pub.stop()
    for s in subs:
        s.stop()


def case_fanout1(v, tag):
    fanout(v, tag, 1)


def case_fanout2(v, tag):
    fanout(v, tag, 2)


def persistent(name, v, expiry):
    """A client whose session outlives its connection (3.1.1: clean session off; 5.0: clean
    start off and a session expiry interval)."""
    if v == mqtt.MQTTv5:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=v)
    else:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=v, clean_session=False)
    b = Box.__new__(Box)
    b.c, b.msgs, b.lock = c, [], threading.Condition()
    b.connected, b.subacks = threading.Event(), {}
    b.present = None
    c.on_message = b._on_message
    c.on_subscribe = b._on_subscribe

    def on_connect(cl, u, flags, rc, p):
        b.present = bool(flags.session_present)
        b.connected.set()

    c.on_connect = on_connect
    if v == mqtt.MQTTv5:
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = expiry
        c.connect(HOST, PORT, keepalive=30, clean_start=False, properties=props)
    else:
        c.connect(HOST, PORT, keepalive=30)
    c.loop_start()
    if not b.connected.wait(TIMEOUT):
        raise AssertionError("no CONNACK")
    return b


def case_session(v, tag):
    # A kept session: subscriptions survive, and QoS 1 messages wait for the client.
    first = persistent(f"sess-{tag}", v, 60)
    first.subscribe(f"sess/{tag}", 1)
    first.stop()
    # Until the broker has seen the DISCONNECT, a message would still go to the old
    # connection: give it time on a loaded machine.
    time.sleep(1.0)
    pub = Box(f"sess-pub-{tag}", v).connect(v)
    pub.publish(f"sess/{tag}", b"while away", 1)
    again = persistent(f"sess-{tag}", v, 60)
    assert again.present is True, "the session was not kept"
    again.wait(lambda: len(again.msgs) == 1, "the message kept while away")
    assert again.msgs[0][:3] == (f"sess/{tag}", b"while away", 1), again.msgs
    again.stop()
    # A clean one (3.1.1) or an expiry of 0 (5.0) ends with the connection.
    gone = Box(f"sess-{tag}", v).connect(v)
    gone.stop()
    time.sleep(0.3)
    fresh = persistent(f"sess-{tag}", v, 0)
    assert fresh.present is False, "a clean session was kept"
    fresh.stop()
    pub.stop()


DYING = """
import sys, time, paho.mqtt.client as mqtt
v = {"3.1.1": mqtt.MQTTv311, "5.0": mqtt.MQTTv5}[sys.argv[3]]
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dying-" + sys.argv[3], protocol=v)
c.will_set("will/" + sys.argv[3], b"gone", qos=1)
c.connect(sys.argv[1], int(sys.argv[2]), keepalive=30)
c.loop_start()
time.sleep(0.5)
print("connected", flush=True)
time.sleep(60)
"""


def case_will(v, tag):
    sub = Box(f"will-sub-{tag}", v).connect(v)
    sub.subscribe(f"will/{tag}", 1)
    p = subprocess.Popen([sys.executable, "-c", DYING, HOST, str(PORT), tag], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"connected"
        p.kill()
        p.wait()
        sub.wait(lambda: len(sub.msgs) == 1, "the will")
        assert sub.msgs[0][:2] == (f"will/{tag}", b"gone"), sub.msgs
    finally:
        p.kill()
    # A normal DISCONNECT drops the will.
    clean = Box(f"will-clean-{tag}", v, will=(f"will/{tag}", b"not sent", 1)).connect(v)
    clean.stop()
    time.sleep(0.5)
    assert len(sub.msgs) == 1, sub.msgs
    sub.stop()


def case_keepalive(v, tag):
    # A CONNECT asking for a 1 s keepalive, then silence: the broker closes after 1.5 s.
    level = 5 if v == mqtt.MQTTv5 else 4
    cid = f"ka-{tag}".encode()
    body = b"\x00\x04MQTT" + bytes([level, 0x02]) + (1).to_bytes(2, "big")
    if level == 5:
        body += b"\x00"
    body += len(cid).to_bytes(2, "big") + cid
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(bytes([0x10, len(body)]) + body)
    connack = s.recv(64)
    assert connack[:1] == b"\x20", connack
    t = time.monotonic()
    rest = b""
    while True:
        chunk = s.recv(64)
        if not chunk:
            break
        rest += chunk
    took = time.monotonic() - t
    assert 1.2 <= took <= 4.0, f"closed after {took:.2f} s"
    s.close()


def case_websocket(v, tag):
    sub = Box(f"ws-sub-{tag}", v, transport="websockets").connect(v)
    sub.subscribe(f"ws/{tag}", 1)
    pub = Box(f"ws-pub-{tag}", v, transport="websockets").connect(v)
    pub.publish(f"ws/{tag}", b"over websocket", 1)
    sub.wait(lambda: len(sub.msgs) == 1, "the message over WebSocket")
    assert sub.msgs[0][:2] == (f"ws/{tag}", b"over websocket"), sub.msgs
    pub.stop()
    sub.stop()


for case in sys.argv[3:]:
    for name, v in VERSIONS.items():
        globals()["case_" + case](v, name)
        print(f"ok {case} {name}", flush=True)
