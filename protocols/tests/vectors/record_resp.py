#!/usr/bin/env python3
"""Records raw RESP replies from a real redis-server as test vectors.

Starts `redis-server` on a free 127.0.0.1 port (no persistence, DEBUG enabled), sends
commands over a plain socket in RESP2 and, after `HELLO 3`, in RESP3, and writes each
reply's exact bytes as `name hex` lines to resp2.txt and resp3.txt beside this script
(an attribute reply holds the attribute and the value after it). Run it again to refresh
them: `python3 protocols/tests/vectors/record_resp.py`.
"""

import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(*args):
    """A client command: an array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("redis closed the connection")
        self.buf += chunk

    def _line(self, at):
        while True:
            i = self.buf.find(b"\r\n", at)
            if i >= 0:
                return self.buf[at:i], i + 2
            self._fill()

    def _need(self, end):
        while len(self.buf) < end:
            self._fill()

    def _value(self, at):
        """The end of the value starting at `at`."""
        self._need(at + 1)
        kind = self.buf[at:at + 1]
        line, at = self._line(at + 1)
        if kind in b"+-:_#,(":
            return at
        n = int(line)
        if kind in b"$!=":
            if n < 0:
                return at
            self._need(at + n + 2)
            return at + n + 2
        if kind in b"*~>":
            for _ in range(max(n, 0)):
                at = self._value(at)
            return at
        if kind in b"%|":
            for _ in range(2 * n):
                at = self._value(at)
            if kind == b"|":
                # An attribute precedes the value it describes.
                at = self._value(at)
            return at
        raise ValueError("unknown RESP type %r" % kind)

    def reply(self):
        end = self._value(0)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw

    def call(self, *args):
        self.sock.sendall(command(*args))
        return self.reply()


def record(conn, cases):
    out = []
    for name, args in cases:
        raw = conn.call(*args)
        out.append("%s %s" % (name, raw.hex()))
    return out


DEBUG_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map",
               "attrib", "verbatim", "true", "false"]


def main():
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--bind", "127.0.0.1", "--enable-debug-command", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                conn = Conn(port)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not start")
        setup = [("SET", "greeting", "hello"), ("SET", "empty", ""),
                 ("SET", "binary", b"a\r\nb\x00\xff"), ("SET", "big", "x" * 10000),
                 ("RPUSH", "list", "a", "bb", "ccc"), ("SADD", "set", "one"),
                 ("HSET", "hash", "field", "value"),
                 ("XADD", "stream", "1-1", "f1", "v1", "f2", "v2"),
                 ("XADD", "stream", "2-1", "g", "w")]
        for s in setup:
            conn.call(*s)
        common = [
            ("ping", ["PING"]),
            ("set_ok", ["SET", "k", "v"]),
            ("get", ["GET", "greeting"]),
            ("get_empty", ["GET", "empty"]),
            ("get_binary", ["GET", "binary"]),
            ("get_big", ["GET", "big"]),
            ("get_missing", ["GET", "missing"]),
            ("incr", ["INCR", "counter"]),
            ("decrby_negative", ["DECRBY", "negative", "12345"]),
            ("error_unknown_command", ["NOSUCHCOMMAND"]),
            ("error_wrong_type", ["GET", "list"]),
            ("lrange", ["LRANGE", "list", "0", "-1"]),
            ("lrange_empty", ["LRANGE", "missing", "0", "-1"]),
            ("mget_with_null", ["MGET", "greeting", "missing"]),
            ("smembers", ["SMEMBERS", "set"]),
            ("hgetall", ["HGETALL", "hash"]),
            ("xrange_nested", ["XRANGE", "stream", "-", "+"]),
            ("blpop_timeout", ["BLPOP", "missing", "0.01"]),
            ("zscore_missing", ["ZSCORE", "missing", "m"]),
        ]
        debug = [("debug_" + t, ["DEBUG", "PROTOCOL", t]) for t in DEBUG_TYPES]
        resp2 = record(conn, common + debug)
        hello = conn.call("HELLO", "3")
        resp3 = ["hello3_map %s" % hello.hex()] + record(conn, common + debug)
        # A push: DEBUG PROTOCOL push sends a push and then its reply.
        conn.sock.sendall(command("DEBUG", "PROTOCOL", "push"))
        push = conn.reply()
        after = conn.reply()
        resp3.append("debug_push %s" % push.hex())
        resp3.append("debug_push_reply %s" % after.hex())
        for name, lines in [("resp2.txt", resp2), ("resp3.txt", resp3)]:
            with open(os.path.join(HERE, name), "w") as f:
                f.write("# Replies of redis-server %s, recorded by record_resp.py: name hex\n"
                        % server_version())
                f.write("\n".join(lines) + "\n")
    finally:
        server.terminate()
        server.wait(timeout=10)


def server_version():
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    for part in out.stdout.split():
        if part.startswith("v="):
            return part[2:]
    return "?"


if __name__ == "__main__":
    main()
