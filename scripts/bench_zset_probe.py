#!/usr/bin/env python3
"""A big sorted set over the network: what another client sees while
ZADD writes into a 10M-member sorted set and while DEL removes it,
Tandem against Redis 7.0 side by side (issue 14's target: probe p99.9
<= 2 ms).

Each round starts both servers afresh, in turn (A B, then B A, ...), and
on each:

  fill   myzset gets N members (default 10M) by pipelined ZADDs of 1,000
         members each (unmeasured)
  zadd   redis-benchmark -t zadd (50 clients, pipeline 16, -r N: random
         members into the same myzset) beside the probe
  del    the probe alone for 0.5 s, then DEL myzset (its round trip
         timed), then 1 s more

The probe is `tandem bench net --workload probe`: one connection, one GET
of a random key per millisecond, each round trip timed. Reports, per
phase and server, the medians over rounds of the probe's p99, p99.9 and
max, redis-benchmark's ops/s (zadd) and DEL's round trip (del).

Usage: scripts/bench_zset_probe.py [--members N] [--rounds R] [--zadds N]
       [--baseline-bin PATH] [--no-redis]
(build target/release/tandem first; the probe client is always
--tandem-bin's).
"""
import argparse
import json
import os
import shlex
import socket
import subprocess
import tempfile
import time

from bench_vs_redis import med

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not start")


def command(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out


def read_replies(f, n):
    for _ in range(n):
        line = f.readline()
        if line.startswith(b"-"):
            raise SystemExit(f"server error: {line!r}")


def fill(port, members):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    batch, sent = [], 0
    for start in range(0, members, 1000):
        words = [b"ZADD", b"myzset"]
        for i in range(start, min(start + 1000, members)):
            words += [b"%d" % ((i * 7919) % 1000003), b"element:%d" % i]
        batch.append(command(*words))
        if len(batch) == 20:
            s.sendall(b"".join(batch))
            read_replies(f, len(batch))
            sent += len(batch)
            batch = []
    if batch:
        s.sendall(b"".join(batch))
        read_replies(f, len(batch))
    s.close()


def probe(a, port):
    cmd = [a.tandem_bin, "bench", "net", "--workload", "probe", "--port", str(port),
           "--keyspace", "1000", "--interval-us", "1000", "--seconds", "600",
           "--until-stdin-closes", "--json"]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def probe_result(p):
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        raise SystemExit(f"probe failed: {err.strip()}")
    r = json.loads(out.strip().splitlines()[-1])
    return r["p99_us"] / 1e3, r["p999_us"] / 1e3, r["max_us"] / 1e3


def one(a, name, argv, port):
    with tempfile.TemporaryDirectory() as d:
        srv = subprocess.Popen(argv, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            t0 = time.monotonic()
            fill(port, a.members)
            fill_s = time.monotonic() - t0
            p = probe(a, port)
            bench = ["redis-benchmark", "-p", str(port), "-t", "zadd", "-n", str(a.zadds),
                     "-c", "50", "-P", "16", "-r", str(a.members), "--csv"]
            res = subprocess.run(bench, capture_output=True, text=True)
            rows = [ln.split(",") for ln in res.stdout.splitlines() if ln.startswith('"ZADD"')]
            rps = float(rows[0][1].strip('"')) if rows else float("nan")
            zadd = probe_result(p)
            p = probe(a, port)
            time.sleep(0.5)
            s = socket.create_connection(("127.0.0.1", port))
            t1 = time.monotonic()
            s.sendall(command(b"DEL", b"myzset"))
            reply = s.recv(100)
            del_ms = (time.monotonic() - t1) * 1e3
            s.close()
            time.sleep(1.0)
            deleted = probe_result(p)
            print(f"{name}: fill {fill_s:.1f} s; zadd {rps:,.0f} ops/s probe p99 {zadd[0]:.2f} "
                  f"p99.9 {zadd[1]:.2f} max {zadd[2]:.2f} ms; DEL {reply.strip()!r} {del_ms:.1f} ms "
                  f"probe p99 {deleted[0]:.2f} p99.9 {deleted[1]:.2f} max {deleted[2]:.2f} ms",
                  flush=True)
            return {"rps": rps, "zadd": zadd, "del_ms": del_ms, "del": deleted}
        finally:
            srv.kill()
            srv.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--zadds", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    ap.add_argument("--baseline-bin", help="an older Tandem build, run beside as `Tandem-base`")
    ap.add_argument("--no-redis", action="store_true", help="leave Redis out (an A/B of builds)")
    a = ap.parse_args()
    servers = [("Tandem", [a.tandem_bin, "server", "--port", "7301"], 7301)]
    if a.baseline_bin:
        servers.append(("Tandem-base", [a.baseline_bin, "server", "--port", "7303"], 7303))
    if not a.no_redis:
        servers.append(("Redis", shlex.split("redis-server --port 7302 --save '' --appendonly no"), 7302))
    results = {n: [] for n, _, _ in servers}
    for r in range(a.rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for name, argv, port in order:
            print(f"round {r + 1}/{a.rounds}", end=" ", flush=True)
            results[name].append(one(a, name, argv, port))
    print(f"\n`scripts/bench_zset_probe.py --members {a.members} --zadds {a.zadds} --rounds {a.rounds}"
          f"{' --baseline-bin ...' if a.baseline_bin else ''}{' --no-redis' if a.no_redis else ''}`, medians:\n")
    print("| server | ZADD ops/s | probe p99 / p99.9 / max ms during ZADD | DEL ms | probe p99 / p99.9 / max ms around DEL |")
    print("|---|---:|---|---:|---|")
    for name, rs in results.items():
        z = [med([x["zadd"][i] for x in rs]) for i in range(3)]
        d = [med([x["del"][i] for x in rs]) for i in range(3)]
        print(f"| {name} | {med([x['rps'] for x in rs]):,.0f} | {z[0]:.2f} / {z[1]:.2f} / {z[2]:.2f} | "
              f"{med([x['del_ms'] for x in rs]):.1f} | {d[0]:.2f} / {d[1]:.2f} / {d[2]:.2f} |")


if __name__ == "__main__":
    main()
