#!/usr/bin/env python3
"""A snapshot of a big collection, and the writes that wait for it.

Tandem and Redis 7.0 (and, with --baseline-bin, an older Tandem build)
each start fresh with one collection of --members elements (--kind: a set
of `member:<i>`, a hash of `field:<i>` to `value:<i>`, a sorted set of
`member:<i>` scored i, or a list of `element:<i>`), then, for --rounds alternating rounds: `redis-benchmark -t set -c 8 -n N
-r 100000` runs while a BGSAVE starts 0.5 s in, and the SET clients' max
and p99 latency are read, against the same run without a BGSAVE. Tandem's
snapshot copies a big hash, set or sorted set a step at a time (a list
whole) under its shard's read lock, so writes to that shard wait for a
step (for a list, the whole list); Redis forks.

Usage: scripts/bench_snapshot_stall.py [--kind set] [--members 5000000]
       [--rounds 5] [--baseline-bin PATH]
"""
import argparse
import csv
import os
import shutil
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait(port):
    c = redis.Redis(port=port)
    for _ in range(500):
        try:
            c.ping()
            return c
        except redis.ConnectionError:
            time.sleep(0.02)
    raise SystemExit(f"port {port} did not answer")


def sets(port, n, bgsave):
    bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-c", "8", "-n",
                              str(n), "-r", "100000", "--csv"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if bgsave:
        time.sleep(0.5)
        c = redis.Redis(port=port)
        c.bgsave()
    out, _ = bench.communicate()
    if bgsave:
        c = redis.Redis(port=port)
        while c.info("persistence").get("rdb_bgsave_in_progress"):
            time.sleep(0.05)
    rows = [r for r in csv.reader(out.splitlines()) if r]
    row = dict(zip(rows[0], rows[1]))
    return float(row["p99_latency_ms"]), float(row["max_latency_ms"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=300_000)
    ap.add_argument("--kind", choices=["set", "hash", "zset", "list"], default="set")
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    ap.add_argument("--baseline-bin", help="an older Tandem build, run beside as `tandem-base`")
    a = ap.parse_args()
    dirs = [tempfile.mkdtemp(prefix="bench-stall-") for _ in range(3)]
    procs = [
        subprocess.Popen([a.tandem_bin, "server", "--port", "6430", "--dir", dirs[0], "--save", ""],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["redis-server", "--port", "6431", "--dir", dirs[1], "--save", "",
                          "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    servers = [("tandem", 6430), ("redis", 6431)]
    if a.baseline_bin:
        procs.append(subprocess.Popen([a.baseline_bin, "server", "--port", "6432", "--dir",
                                       dirs[2], "--save", ""],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers.insert(1, ("tandem-base", 6432))
    fill = {
        "set": lambda p, i: p.sadd("big", f"member:{i}"),
        "hash": lambda p, i: p.hset("big", f"field:{i}", f"value:{i}"),
        "zset": lambda p, i: p.zadd("big", {f"member:{i}": i}),
        "list": lambda p, i: p.rpush("big", f"element:{i}"),
    }[a.kind]
    try:
        for _, port in servers:
            c = wait(port)
            p = c.pipeline(transaction=False)
            for i in range(a.members):
                fill(p, i)
                if i % 10000 == 9999:
                    p.execute()
            p.execute()
        res = {}
        for rnd in range(a.rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for name, port in order:
                quiet = sets(port, a.requests, False)
                saving = sets(port, a.requests, True)
                res.setdefault(name, []).append((quiet, saving))
                print(f"round {rnd + 1} {name:11} SET p99/max without BGSAVE {quiet[0]:.3f}/"
                      f"{quiet[1]:.1f} ms, during one {saving[0]:.3f}/{saving[1]:.1f} ms", flush=True)

        def med(xs):
            return sorted(xs)[len(xs) // 2]

        print(f"\n# SET -c 8 beside a {a.kind} of {a.members} elements, {a.rounds} rounds (medians)")
        for name, _ in servers:
            rs = res[name]
            print(f"{name:11} without BGSAVE p99 {med([q[0] for q, _ in rs]):.3f} ms "
                  f"max {med([q[1] for q, _ in rs]):.1f} ms | during BGSAVE p99 "
                  f"{med([s[0] for _, s in rs]):.3f} ms max {med([s[1] for _, s in rs]):.1f} ms")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
