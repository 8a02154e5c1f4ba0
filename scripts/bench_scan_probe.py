#!/usr/bin/env python3
"""HSCAN on a big hash, and what it does to other clients.

Each server (Tandem, optionally an older Tandem build, Redis 7.0) starts
fresh, gets one hash of --fields fields, then:
  1. `redis-benchmark -c 1 -n N HSCAN big <cursor> COUNT 10` alone, the
     cost of one step (cursors spread over the scan, from a real scan);
  2. the same HSCAN loop on 4 clients while `redis-benchmark -t get -c 10`
     runs: the GET clients' p99 and max, which a step that holds a lock
     for long shows up in.
Rounds alternate the servers; medians are printed.

Usage: scripts/bench_scan_probe.py [--fields 1000000] [--rounds 5]
       [--tandem-bin target/release/tandem] [--baseline-bin OLD]
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(argv, port):
    d = tempfile.mkdtemp(prefix="bench-scan-")
    proc = subprocess.Popen(argv + ["--port", str(port), "--dir", d, "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = redis.Redis(port=port)
    for _ in range(500):
        try:
            c.ping()
            return proc, d
        except redis.ConnectionError:
            time.sleep(0.02)
    sys.exit(f"{argv[0]} did not start")


def bench(port, args):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "--csv"] + args,
                         capture_output=True, text=True).stdout
    rows = [r for r in csv.reader(out.splitlines()) if r]
    head = rows[0]
    return dict(zip(head, rows[1]))


def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fields", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    ap.add_argument("--baseline-bin")
    a = ap.parse_args()
    servers = [("tandem", [a.tandem_bin, "server"]),
               ("redis", ["redis-server", "--appendonly", "no"])]
    if a.baseline_bin:
        servers.append(("tandem-base", [a.baseline_bin, "server"]))
    results = {}
    for rnd in range(a.rounds):
        for name, argv in servers[rnd % len(servers):] + servers[:rnd % len(servers)]:
            port = 6400 + rnd
            proc, d = start(argv, port)
            c = redis.Redis(port=port)
            p = c.pipeline(transaction=False)
            for i in range(a.fields):
                p.hset("big", f"field:{i}", "v" * 16)
                if i % 5000 == 4999:
                    p.execute()
            p.execute()
            # A cursor from the middle of a real scan.
            cursor = 0
            for _ in range(50):
                cursor, _ = c.hscan("big", cursor, count=1000)
            scan = ["HSCAN", "big", str(cursor), "COUNT", "10"]
            alone = bench(port, ["-c", "1", "-n", "300"] + scan)
            loop = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", "4", "-n",
                                     "100000000", "-q"] + scan,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            gets = bench(port, ["-t", "get", "-c", "10", "-n", "50000"])
            loop.kill()
            loop.wait()
            r = {"scan_avg_ms": float(alone["avg_latency_ms"]),
                 "scan_p99_ms": float(alone["p99_latency_ms"]),
                 "get_p99_ms": float(gets["p99_latency_ms"]),
                 "get_max_ms": float(gets["max_latency_ms"]),
                 "get_rps": float(gets["rps"])}
            results.setdefault(name, []).append(r)
            print(f"round {rnd + 1} {name:11} HSCAN avg {r['scan_avg_ms']:.3f} ms "
                  f"p99 {r['scan_p99_ms']:.3f} ms; GET beside it p99 {r['get_p99_ms']:.3f} ms "
                  f"max {r['get_max_ms']:.3f} ms {r['get_rps']:.0f}/s", flush=True)
            proc.kill()
            proc.wait()
            shutil.rmtree(d, ignore_errors=True)
    print(f"\n# HSCAN big <mid cursor> COUNT 10 on a hash of {a.fields} fields, "
          f"{a.rounds} rounds (medians)")
    for name, _ in servers:
        rs = results[name]
        print(f"{name:11} HSCAN avg {med([x['scan_avg_ms'] for x in rs]):.3f} ms "
              f"p99 {med([x['scan_p99_ms'] for x in rs]):.3f} ms | GET beside 4 scanners: "
              f"p99 {med([x['get_p99_ms'] for x in rs]):.3f} ms "
              f"max {med([x['get_max_ms'] for x in rs]):.3f} ms "
              f"{med([x['get_rps'] for x in rs]):.0f} ops/s")


if __name__ == "__main__":
    main()
