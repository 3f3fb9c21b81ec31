"""redis-py against a Redis server: the cases examples/tests/redis.rs runs.

Usage: cases.py HOST PORT CASE...   (cases: basic, strings, counters, expiry, keys, flush,
errors, misc, pipeline, pubsub, binary, quit; each in RESP2 and RESP3). Prints `ok CASE PROTO`
per case; any failure raises (a non-zero exit with the reason). The cases share one server:
each works under keys of its own (`CASE:PROTO:`), and only `flush` empties the keyspace.
"""

import os
import sys
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST, PORT = sys.argv[1], int(sys.argv[2])
TIMEOUT = 20.0


def connect(proto, **kw):
    """A client of the server in RESP`proto`; it does not retry (a failure shows)."""
    kw.setdefault("socket_timeout", TIMEOUT)
    return redis.Redis(
        host=HOST,
        port=PORT,
        protocol=proto,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        **kw,
    )


def fails(f, text, *args, error=redis.ResponseError):
    """`f(*args)` raises `error` saying exactly `text` (redis-py drops `ERR `)."""
    try:
        got = f(*args)
    except error as e:
        assert str(e) == text, f"{str(e)!r} != {text!r}"
        return
    raise AssertionError(f"no error but {got!r}; wanted {text!r}")


def text(x):
    """A reply as text: redis-py decodes some replies in one protocol and not the other."""
    return x.decode() if isinstance(x, bytes) else x


def as_dict(reply):
    """HELLO's reply: a map in RESP3, a flat list of pairs in RESP2."""
    if isinstance(reply, dict):
        return reply
    assert isinstance(reply, list) and len(reply) % 2 == 0, reply
    return dict(zip(reply[0::2], reply[1::2]))


def case_basic(proto, p):
    r = connect(proto)
    assert r.ping() is True
    assert r.echo(b"hello \r\n world") == b"hello \r\n world"
    # HELLO without a version answers in the connection's protocol; with one it switches.
    hello = r.execute_command("HELLO")
    if proto == 3:
        assert isinstance(hello, dict), hello
    else:
        assert isinstance(hello, list), hello
    hello = as_dict(hello)
    assert hello[b"proto"] == proto, hello
    assert hello[b"server"] == b"redis", hello
    assert hello[b"mode"] == b"standalone", hello
    hello = as_dict(r.execute_command("HELLO", proto))
    assert hello[b"proto"] == proto, hello
    # CLIENT: the name set is the name got; the id is the one HELLO gave.
    assert r.client_getname() is None
    assert r.client_setname(f"basic-{proto}") is True
    assert text(r.client_getname()) == f"basic-{proto}"
    fails(r.client_setname, "Client names cannot contain spaces, newlines or special characters.", "a b")
    cid = r.client_id()
    assert isinstance(cid, int) and cid > 0, cid
    assert cid == hello[b"id"], (cid, hello)
    # Another connection has another id.
    other = connect(proto)
    assert other.client_id() != cid
    other.close()
    # One database.
    assert r.execute_command("SELECT", 0) in (True, b"OK")
    fails(r.execute_command, "DB index is out of range", "SELECT", 1)
    r.close()


def case_strings(proto, p):
    r = connect(proto)
    k = lambda s: f"{p}{s}"
    assert r.get(k("missing")) is None
    assert r.set(k("a"), "1") is True
    assert r.get(k("a")) == b"1"
    # NX: only when missing; XX: only when present.
    assert r.set(k("a"), "2", nx=True) is None
    assert r.get(k("a")) == b"1"
    assert r.set(k("b"), "2", nx=True) is True
    assert r.set(k("c"), "3", xx=True) is None
    assert r.exists(k("c")) == 0
    assert r.set(k("b"), "22", xx=True) is True
    assert r.get(k("b")) == b"22"
    # GET: the old value (or none).
    assert r.set(k("b"), "23", get=True) == b"22"
    assert r.set(k("g"), "x", get=True) is None
    assert r.get(k("g")) == b"x"
    assert r.set(k("b"), "24", xx=True, get=True) == b"23"
    # EX / PX set a TTL; a plain SET clears it.
    assert r.set(k("ex"), "v", ex=100) is True
    assert 99 <= r.ttl(k("ex")) <= 100, r.ttl(k("ex"))
    assert r.set(k("px"), "v", px=100000) is True
    assert 99000 <= r.pttl(k("px")) <= 100000, r.pttl(k("px"))
    assert r.set(k("px"), "w") is True
    assert r.ttl(k("px")) == -1
    fails(r.set, "invalid expire time in 'set' command", k("x"), "v", 0)
    fails(r.execute_command, "syntax error", "SET", k("x"), "v", "NX", "XX")
    fails(r.execute_command, "value is not an integer or out of range", "SET", k("x"), "v", "EX", "soon")
    # DEL and EXISTS count (EXISTS counts a key named twice twice).
    assert r.exists(k("a"), k("b"), k("a"), k("none")) == 3
    assert r.delete(k("a"), k("none"), k("b")) == 2
    assert r.exists(k("a"), k("b")) == 0
    assert r.delete(k("a")) == 0
    # MSET / MGET.
    assert r.mset({k("m1"): "x", k("m2"): "y", k("m3"): ""}) is True
    assert r.mget(k("m1"), k("nope"), k("m2"), k("m3")) == [b"x", None, b"y", b""]
    fails(r.execute_command, "wrong number of arguments for 'mset' command", "MSET", k("m1"), "x", k("m2"))
    r.close()


def case_counters(proto, p):
    r = connect(proto)
    k = lambda s: f"{p}{s}"
    assert r.incr(k("n")) == 1
    assert r.incr(k("n")) == 2
    assert r.decr(k("n")) == 1
    assert r.decr(k("m")) == -1
    assert r.incrby(k("n"), 41) == 42
    assert r.incrby(k("n"), -50) == -8
    assert r.decrby(k("n"), 2) == -10
    assert r.get(k("n")) == b"-10"
    r.set(k("s"), "abc")
    fails(r.incr, "value is not an integer or out of range", k("s"))
    r.set(k("big"), str(2**63 - 1))
    fails(r.incr, "increment or decrement would overflow", k("big"))
    fails(r.execute_command, "value is not an integer or out of range", "INCRBY", k("n"), "1.5")
    r.close()


def case_expiry(proto, p):
    r = connect(proto)
    k = lambda s: f"{p}{s}"
    r.set(k("a"), "v")
    assert r.ttl(k("a")) == -1
    assert r.pttl(k("a")) == -1
    assert r.ttl(k("none")) == -2
    assert r.pttl(k("none")) == -2
    assert r.expire(k("none"), 10) is False
    assert r.expire(k("a"), 100) is True
    assert 99 <= r.ttl(k("a")) <= 100, r.ttl(k("a"))
    assert r.pexpire(k("a"), 100000) is True
    assert 99000 <= r.pttl(k("a")) <= 100000, r.pttl(k("a"))
    # NX / XX / GT / LT.
    assert r.expire(k("a"), 50, nx=True) is False
    assert r.expire(k("a"), 50, gt=True) is False
    assert r.expire(k("a"), 50, lt=True) is True
    assert r.expire(k("a"), 70, xx=True) is True
    assert 69 <= r.ttl(k("a")) <= 70, r.ttl(k("a"))
    assert r.persist(k("a")) is True
    assert r.persist(k("a")) is False
    assert r.ttl(k("a")) == -1
    # EXPIREAT / PEXPIREAT in the future, then one in the past deletes the key.
    now = int(time.time())
    assert r.expireat(k("a"), now + 1000) is True
    assert 990 <= r.ttl(k("a")) <= 1000, r.ttl(k("a"))
    assert r.pexpireat(k("a"), (now + 2000) * 1000) is True
    assert 1990 <= r.ttl(k("a")) <= 2000, r.ttl(k("a"))
    assert r.expireat(k("a"), now - 10) is True
    assert r.exists(k("a")) == 0
    # A key expiring: gone from GET, EXISTS, TTL, KEYS and MGET.
    r.set(k("short"), "v")
    r.set(k("ex"), "v", px=50)
    assert r.pexpire(k("short"), 50) is True
    # (Already gone, -2, on a machine slow enough.)
    assert r.pttl(k("short")) <= 50, r.pttl(k("short"))
    time.sleep(0.1)
    assert r.get(k("short")) is None
    assert r.exists(k("short"), k("ex")) == 0
    assert r.ttl(k("short")) == -2
    assert r.pttl(k("ex")) == -2
    assert r.keys(f"{p}*") == []
    assert r.mget(k("short"), k("ex")) == [None, None]
    fails(r.expire, "value is not an integer or out of range", k("a"), "soon")
    fails(r.execute_command, "Unsupported option YY", "EXPIRE", k("a"), 10, "YY")
    r.close()


def case_keys(proto, p):
    r = connect(proto)
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "hbllo", "h*llo", "world"]
    r.mset({p + n: "1" for n in names})
    got = lambda pat: sorted(x.decode() for x in r.keys(p + pat))
    assert got("*") == sorted(p + n for n in names), got("*")
    assert got("h?llo") == sorted(p + n for n in ["hello", "hallo", "hxllo", "hbllo", "h*llo"])
    assert got("h*llo") == sorted(p + n for n in names if n != "world")
    assert got("h[ae]llo") == [p + "hallo", p + "hello"]
    assert got("h[^e]llo") == sorted(p + n for n in ["hallo", "hxllo", "hbllo", "h*llo"])
    assert got("h[a-b]llo") == [p + "hallo", p + "hbllo"]
    assert got("h\\*llo") == [p + "h*llo"]
    assert got("w*") == [p + "world"]
    assert got("nothing*") == []
    r.close()


def case_flush(proto, p):
    r = connect(proto)
    for flush in (r.flushdb, r.flushall):
        r.mset({f"{p}{i}": i for i in range(3)})
        assert r.dbsize() >= 3
        assert flush() is True
        assert r.dbsize() == 0
        assert r.keys("*") == []
        r.mset({f"{p}{i}": i for i in range(5)})
        assert r.dbsize() == 5
        r.delete(f"{p}0")
        assert r.dbsize() == 4
    assert r.execute_command("FLUSHDB", "ASYNC") is True
    assert r.dbsize() == 0
    fails(r.execute_command, "syntax error", "FLUSHDB", "later")
    r.close()


def case_errors(proto, p):
    r = connect(proto)
    fails(r.execute_command, "unknown command 'nope', with args beginning with: 'a' ", "nope", "a")
    fails(r.execute_command, "unknown command 'nope', with args beginning with: ", "nope")
    fails(r.execute_command, "wrong number of arguments for 'get' command", "GET")
    fails(r.execute_command, "wrong number of arguments for 'get' command", "get", "a", "b")
    fails(r.execute_command, "wrong number of arguments for 'set' command", "SET", "a")
    fails(r.execute_command, "wrong number of arguments for 'client|id' command", "CLIENT", "ID", "x")
    # The connection is fine after errors.
    assert r.ping() is True
    r.close()


def case_misc(proto, p):
    r = connect(proto)
    info = r.info("server")
    assert "redis_version" in info, info
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    fails(
        r.execute_command,
        "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        "AUTH",
        "pw",
        error=redis.AuthenticationError,
    )
    r.close()


def case_pipeline(proto, p):
    r = connect(proto)
    n = 2500
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{p}{i}", f"v{i}")
        pipe.get(f"{p}{i}")
        pipe.incr(f"{p}counter")
        pipe.echo(f"e{i}")
    got = pipe.execute()
    assert len(got) == 4 * n, len(got)
    for i in range(n):
        want = [True, f"v{i}".encode(), i + 1, f"e{i}".encode()]
        assert got[4 * i : 4 * i + 4] == want, (i, got[4 * i : 4 * i + 4])
    # An error in the middle of a pipeline answers in its place.
    pipe = r.pipeline(transaction=False)
    pipe.get(f"{p}0")
    pipe.execute_command("nope")
    pipe.get(f"{p}1")
    got = pipe.execute(raise_on_error=False)
    assert got[0] == b"v0" and got[2] == b"v1", got
    assert isinstance(got[1], redis.ResponseError), got
    assert r.get(f"{p}counter") == str(n).encode()
    r.close()


def message(ps, what):
    """The next message (not a subscription answer) `ps` receives."""
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if m is not None:
            return m
    raise AssertionError(f"no {what}")


def case_pubsub(proto, p):
    r = connect(proto)
    clients = [connect(proto) for _ in range(3)]
    subs = [c.pubsub() for c in clients]
    channel = f"{p}news".encode()
    for s in subs:
        s.subscribe(channel)
        # The subscription's answer: once read, the server holds the subscription.
        m = s.get_message(timeout=TIMEOUT)
        assert m == {"type": "subscribe", "pattern": None, "channel": channel, "data": 1}, m
    assert r.publish(channel, b"hello\r\n\0") == 3
    for s in subs:
        m = message(s, "message")
        assert m == {"type": "message", "pattern": None, "channel": channel, "data": b"hello\r\n\0"}, m
    assert r.publish(f"{p}other", "x") == 0
    # A pattern beside the channel: the message arrives once for each.
    pattern = f"{p}n*".encode()
    subs[0].psubscribe(pattern)
    m = subs[0].get_message(timeout=TIMEOUT)
    assert m == {"type": "psubscribe", "pattern": None, "channel": pattern, "data": 2}, m
    assert r.publish(channel, "two") == 4
    got = [message(subs[0], "message"), message(subs[0], "pmessage")]
    got.sort(key=lambda m: m["type"])
    assert got == [
        {"type": "message", "pattern": None, "channel": channel, "data": b"two"},
        {"type": "pmessage", "pattern": pattern, "channel": channel, "data": b"two"},
    ], got
    for s in subs[1:]:
        m = message(s, "message")
        assert m["data"] == b"two", m
    assert r.publish(f"{p}nothing", "only the pattern") == 1
    m = message(subs[0], "pmessage")
    assert m == {"type": "pmessage", "pattern": pattern, "channel": f"{p}nothing".encode(), "data": b"only the pattern"}, m
    # Unsubscribed clients no longer count.
    subs[1].unsubscribe(channel)
    m = subs[1].get_message(timeout=TIMEOUT)
    assert m["type"] == "unsubscribe" and m["data"] == 0, m
    subs[0].punsubscribe(pattern)
    m = subs[0].get_message(timeout=TIMEOUT)
    assert m["type"] == "punsubscribe" and m["data"] == 1, m
    assert r.publish(channel, "three") == 2
    for s in (subs[0], subs[2]):
        assert message(s, "message")["data"] == b"three"
    for s in subs:
        s.close()
    # Closed subscribers are gone.
    deadline = time.monotonic() + TIMEOUT
    while r.publish(channel, "none") != 0:
        assert time.monotonic() < deadline, "subscribers still counted after closing"
        time.sleep(0.05)
    for c in clients:
        c.close()
    r.close()


def case_binary(proto, p):
    r = connect(proto)
    value = os.urandom(1 << 20)
    # Make sure of the bytes a text protocol could trip on, in the middle and at both ends.
    value = b"\r\n\0" + value[: len(value) // 2] + b"\r\n$5\r\n\0*1\r\n" + value[len(value) // 2 :] + b"\0\r\n"
    key = f"{p}k\r\n\0".encode() + os.urandom(16)
    assert r.set(key, value) is True
    assert r.get(key) == value
    assert r.echo(value) == value
    assert r.mget(key, f"{p}none", key) == [value, None, value]
    assert r.set(key, b"", get=True) == value
    assert r.get(key) == b""
    # Several at once, pipelined.
    values = [os.urandom(1 << 20) + b"\r\n" for _ in range(4)]
    pipe = r.pipeline(transaction=False)
    for i, v in enumerate(values):
        pipe.set(f"{p}{i}", v)
        pipe.get(f"{p}{i}")
    got = pipe.execute()
    assert got == [x for v in values for x in (True, v)], "pipelined binary values differ"
    r.close()


def case_quit(proto, p):
    r = connect(proto, single_connection_client=True, socket_timeout=5.0)
    assert r.ping() is True
    assert r.execute_command("QUIT") in (True, b"OK")
    # The server closes the connection: reading finds its end, not a timeout.
    try:
        got = r.connection.read_response()
    except redis.ConnectionError:
        pass
    else:
        raise AssertionError(f"read {got!r} after QUIT")
    r.close()
    # The server serves on.
    r = connect(proto)
    assert r.ping() is True
    r.close()


for case in sys.argv[3:]:
    for proto in (2, 3):
        globals()["case_" + case](proto, f"{case}:{proto}:")
        print(f"ok {case} {proto}", flush=True)
