#!/usr/bin/env python3
"""Any commands side by side on two running servers (Tandem and Redis).

Each cell is a command line for redis-benchmark (its `__rand_int__`
placeholders drawn from --keyspace), run at pipeline 1 and 16 with 50
clients. Rounds alternate which server goes first; reports the medians of
ops/s, p99 and server CPU per request (utime+stime from /proc), and the
median of the per-round ratios first/second.

  python3 scripts/bench_commands.py --server tandem 6400 PID --server redis 6390 PID \\
      --cell setbit 'SETBIT bm:__rand_int__ __rand_int__ 1' --rounds 5

Two names may be one server seen two ways: `--extra NAME ARGS` adds
redis-benchmark arguments for that name alone (`--user bench -a pw` to run
as an ACL user, `--tls --cacert ...` for a TLS port).
"""
import argparse
import csv
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_redis import cpu_ticks, fail, log, med, run_child  # noqa: E402


def run_cell(a, srv, command, n, pipeline):
    name, port, pid = srv
    argv = [a.redis_benchmark, "-h", "127.0.0.1", "-p", str(port), "-n", str(n),
            "-c", str(a.clients), "-r", str(a.keyspace), "-P", str(pipeline), "--csv"]
    argv += shlex.split(a.extras.get(name, "")) + shlex.split(command)
    cpu0 = cpu_ticks(pid)
    res = run_child(argv)
    cpu1 = cpu_ticks(pid)
    if res.returncode != 0 or "Error" in res.stderr:
        fail(f"{name}: {shlex.join(argv)} failed:\n{res.stderr}\n{res.stdout}")
    rows = [r for r in csv.reader(res.stdout.splitlines()) if r]
    row = dict(zip(rows[0], rows[-1]))
    return {"rps": float(row["rps"]), "p99_ms": float(row["p99_latency_ms"]),
            "cpu_us_per_req": (cpu1 - cpu0) / a.tick / n * 1e6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", nargs=3, action="append", required=True, metavar=("NAME", "PORT", "PID"))
    p.add_argument("--cell", nargs=2, action="append", required=True, metavar=("NAME", "COMMAND"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=10_000)
    p.add_argument("--n-p1", type=int, default=200_000)
    p.add_argument("--n-p16", type=int, default=1_000_000)
    p.add_argument("--redis-benchmark", default="redis-benchmark")
    p.add_argument("--extra", nargs=2, action="append", default=[], metavar=("NAME", "ARGS"))
    a = p.parse_args()
    a.extras = dict(a.extra)
    a.tick = os.sysconf("SC_CLK_TCK")
    servers = [(n, int(port), int(pid)) for n, port, pid in a.server]
    cells = [(f"{name} P{pl}", cmd, n, pl) for pl, n in ((1, a.n_p1), (16, a.n_p16)) for name, cmd in a.cell]
    results = {c[0]: {s[0]: [] for s in servers} for c in cells}
    ratios = {c[0]: [] for c in cells}
    first, second = servers[0][0], servers[1][0]
    for r in range(a.rounds):
        order = servers if r % 2 == 0 else servers[::-1]
        for label, cmd, n, pipeline in cells:
            got = {}
            for srv in order:
                got[srv[0]] = run_cell(a, srv, cmd, n, pipeline)
                results[label][srv[0]].append(got[srv[0]])
            ratios[label].append(got[first]["rps"] / got[second]["rps"])
            log(f"round {r + 1} {label}: " + ", ".join(
                f"{s} {got[s]['rps']:.0f}/s p99 {got[s]['p99_ms']:.3f} ms cpu {got[s]['cpu_us_per_req']:.2f} us"
                for s in got))
    print_table([c[0] for c in cells], results, ratios, first, second)


def print_table(labels, results, ratios, first, second):
    """The Markdown table of medians for cells `labels`."""
    print(f"| cell | {first} ops/s | {second} ops/s | ratio (median of rounds) | "
          f"{first} p99 ms | {second} p99 ms | {first} CPU us/req | {second} CPU us/req |")
    print("|---|---|---|---|---|---|---|---|")
    for label in labels:
        m = {s: {k: med([x[k] for x in results[label][s]]) for k in ("rps", "p99_ms", "cpu_us_per_req")}
             for s in (first, second)}
        print(f"| {label} | {m[first]['rps']:.0f} | {m[second]['rps']:.0f} | "
              f"{statistics.median(ratios[label]):.2f} | {m[first]['p99_ms']:.3f} | {m[second]['p99_ms']:.3f} | "
              f"{m[first]['cpu_us_per_req']:.2f} | {m[second]['cpu_us_per_req']:.2f} |")


if __name__ == "__main__":
    main()
