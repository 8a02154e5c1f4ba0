#!/usr/bin/env python3
"""Memory per element of one big collection, Tandem against Redis 7.0
(issue 14's memory targets; results go into docs/BENCHMARKS.md).

Each round starts a fresh server of each kind, writes one collection of N
elements by pipelined commands (1,000 a batch), and reports the growth of
the server's resident set (VmRSS) divided by N:
- hash: HSET myhsh field:<i> <SIZE-byte value>;
- set:  SADD myset element:<i> (SIZE is unused);
- list: RPUSH mylist element:<i> (SIZE is unused);
- zset: ZADD myzset <score> element:<i>, scores (i * 7919) mod 1000003, so
  members arrive out of score order (SIZE is unused);
- small-hashes: N/10 keys hash:<k>, each HSET with 10 fields field:<j>
  and SIZE-byte values (N counts fields, as for hash).

Usage: scripts/bench_memory.py {hash|set|list|zset|small-hashes} N [SIZE] [--rounds R] [--tandem-bin PATH]
"""
import argparse
import os
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def request(kind, i, value):
    if kind == "small-hashes":
        key, field = b"hash:%d" % (i // 10), b"field:%d" % (i % 10)
        return b"*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(key), key, len(field), field, len(value), value)
    if kind == "hash":
        field = b"field:%d" % i
        return b"*4\r\n$4\r\nHSET\r\n$5\r\nmyhsh\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(field), field, len(value), value)
    member = b"element:%d" % i
    if kind == "zset":
        score = b"%d" % ((i * 7919) % 1000003)
        return b"*4\r\n$4\r\nZADD\r\n$6\r\nmyzset\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(score), score, len(member), member)
    if kind == "list":
        return b"*3\r\n$5\r\nRPUSH\r\n$6\r\nmylist\r\n$%d\r\n%s\r\n" % (len(member), member)
    return b"*3\r\n$4\r\nSADD\r\n$5\r\nmyset\r\n$%d\r\n%s\r\n" % (len(member), member)


def fill(port, kind, n, value):
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()
    for i in range(n):
        buf += request(kind, i, value)
        if (i + 1) % 1000 == 0 or i == n - 1:
            s.sendall(buf)
            buf = bytearray()
            want, data = (i % 1000) + 1, b""
            while data.count(b"\r\n") < want:
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed the connection")
                data += chunk
    s.close()


def measure(argv, port, kind, n, value):
    with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
        p = subprocess.Popen(argv, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    break
                except OSError:
                    time.sleep(0.05)
            time.sleep(0.3)
            before = rss_kb(p.pid)
            fill(port, kind, n, value)
            time.sleep(0.5)
            return (rss_kb(p.pid) - before) * 1024 / n
        finally:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["hash", "set", "list", "zset", "small-hashes"])
    ap.add_argument("n", type=int)
    ap.add_argument("size", type=int, nargs="?", default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    a = ap.parse_args()
    value = b"v" * a.size
    for r in range(a.rounds):
        t = measure([a.tandem_bin, "server", "--port", "7201", "--save", "", "--dir", "."],
                    7201, a.kind, a.n, value)
        d = measure(["redis-server", "--port", "7202", "--save", "", "--appendonly", "no"],
                    7202, a.kind, a.n, value)
        print(f"round {r + 1}: bytes per {a.kind} element: tandem {t:.1f} redis {d:.1f} ratio {t / d:.2f}")


if __name__ == "__main__":
    main()
