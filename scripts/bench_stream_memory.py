#!/usr/bin/env python3
"""Memory per stream entry, side by side: XADD N small entries to one
stream on each server (pipelined, 10,000 at a time) and report the growth
of INFO memory's `used_memory` per entry.

  python3 scripts/bench_stream_memory.py --port 6400 --port 6390 --entries 1000000

Values are `field <i>` (an integer, `--values int`) or `field value-<i>`
(`--values text`); IDs are `*`, as an application's would be.
"""
import argparse
import socket
import time


def call(s, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)


def read_bulk(s):
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(1 << 16)
    head, rest = buf.split(b"\r\n", 1)
    n = int(head[1:])
    while len(rest) < n + 2:
        rest += s.recv(1 << 20)
    return rest[:n]


def used_memory(s):
    call(s, "INFO", "memory")
    for line in read_bulk(s).decode().split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise SystemExit("no used_memory in INFO")


def drain(s, replies):
    buf = b""
    while buf.count(b"\r\n") < replies:
        buf += s.recv(1 << 20)


def measure(port, n, values):
    s = socket.create_connection(("127.0.0.1", port))
    call(s, "FLUSHALL")
    drain(s, 1)
    time.sleep(0.5)
    before = used_memory(s)
    batch = 10_000
    for start in range(0, n, batch):
        count = min(n, start + batch) - start
        out = []
        for i in range(start, start + count):
            v = str(i).encode() if values == "int" else b"value-%d" % i
            out.append(b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$5\r\nfield\r\n$%d\r\n%s\r\n" % (len(v), v))
        s.sendall(b"".join(out))
        # Each reply is one bulk ID: two lines.
        drain(s, 2 * count)
    time.sleep(0.5)
    after = used_memory(s)
    call(s, "FLUSHALL")
    drain(s, 1)
    return (after - before) / n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, action="append", required=True)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--values", choices=["int", "text"], default="int")
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    for r in range(a.rounds):
        order = a.port if r % 2 == 0 else a.port[::-1]
        for port in order:
            print(f"round {r + 1} port {port} {a.values}: {measure(port, a.entries, a.values):.2f} bytes/entry")


if __name__ == "__main__":
    main()
