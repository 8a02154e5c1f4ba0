#!/usr/bin/env python3
"""The measuring half of scripts/bench-vs-redis.sh (run that, not this).

`net`: the servers are already running (the shell script starts them). Each
round runs every cell on both servers back to back, the first server
alternating by round (round 1: first --server first, round 2: second first,
...). A run is one `redis-benchmark ... --csv` invocation with one test, so
the server's CPU time (utime + stime of the whole process, from
/proc/<pid>/stat, before and after) belongs to that test alone. Reports the
medians of ops/s, p99 and CPU per request for each server, and the medians of
the per-round ratios first/second (the two runs of a ratio are adjacent in
time, which cancels most of a shared machine's drift).

`idle`: each round starts every server afresh through
scripts/idle-connections.py --server-cmd (first server alternating by round)
and reports the medians of server memory per idle connection.
"""
import argparse
import csv
import json
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print(f"bench-vs-redis: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_ticks(pid):
    """utime + stime of the whole process (all its threads), in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        fail(f"server pid {pid} is gone (did it crash? see its log)")
    # Field 2 (the command name) may hold spaces; fields 14 and 15 are the
    # 12th and 13th after the closing parenthesis.
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine_info(a):
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cores": os.cpu_count(),
        "loadavg_at_start": open("/proc/loadavg").read().split()[0],
        "redis_benchmark": version([a.redis_benchmark, "--version"]),
    }
    if getattr(a, "redis_server", None):
        # "Redis server v=7.0.15 sha=... malloc=jemalloc-5.3.0 bits=64 build=..."
        words = version([a.redis_server, "--version"]).split()
        info["redis_server"] = " ".join(w for w in words if not w.startswith(("sha=", "build=")))
    if getattr(a, "tandem_bin", None):
        info["tandem_bin"] = a.tandem_bin
        info["git"] = version(["git", "-C", HERE, "describe", "--always", "--dirty"])
    return info


def run_child(argv):
    """subprocess.run, except that if we are interrupted the child gets
    SIGTERM (and time to stop any server it started) rather than SIGKILL."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True) as p:
        try:
            out, err = p.communicate()
        except BaseException:
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
            raise
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


# ---------------------------------------------------------------- prefill


def prefill(host, port, keyspace, data_size, batch=1000):
    """SETs every key redis-benchmark's -r can pick (key:%012d), so GETs hit
    from the first round on and every round sees the same keyspace."""
    rng = random.Random(42)
    value = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                    for _ in range(data_size)).encode()
    tail = b"$%d\r\n%s\r\n" % (len(value), value)
    want = b"+OK\r\n"
    with socket.create_connection((host, port), timeout=60) as s:
        for start in range(0, keyspace, batch):
            end = min(start + batch, keyspace)
            s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n" % i + tail
                               for i in range(start, end)))
            expect = len(want) * (end - start)
            got = b""
            while len(got) < expect:
                chunk = s.recv(expect - len(got))
                if not chunk:
                    fail(f"port {port} closed the connection during prefill")
                got += chunk
            if got != want * (end - start):
                fail(f"prefill on port {port}: unexpected reply {got[:80]!r}")


# ---------------------------------------------------------------- net


def run_benchmark(a, srv, test, n, pipeline):
    name, port, pid = srv
    argv = [a.redis_benchmark, "-h", a.host, "-p", str(port), "-t", test.lower(),
            "-n", str(n), "-c", str(a.clients), "-r", str(a.keyspace),
            "-d", str(a.data_size), "-P", str(pipeline), "--csv"] + shlex.split(a.bench_args)
    cpu0 = cpu_ticks(pid)
    t0 = time.monotonic()
    res = run_child(argv)
    wall = time.monotonic() - t0
    cpu1 = cpu_ticks(pid)
    if "Error from server" in res.stderr or res.returncode != 0:
        fail(f"{name}: `{shlex.join(argv)}` failed (exit {res.returncode}):\n"
             f"{res.stderr.strip()}\n{res.stdout.strip()}")
    rows = [r for r in csv.reader(res.stdout.splitlines()) if r]
    header = next((r for r in rows if r[0] == "test"), None)
    # LRANGE_100 reports as "LRANGE_100 (first 100 elements)", after the
    # "LPUSH (needed to benchmark LRANGE)" run that fills its list (whose
    # time and CPU are counted in the cell's CPU per request).
    body = [r for r in rows if header and r[0].split(" (")[0] == test.upper()]
    if not header or len(body) != 1:
        fail(f"{name}: could not read redis-benchmark CSV:\n{res.stdout}\n{res.stderr}")
    row = dict(zip(header, body[0]))
    cpu_s = (cpu1 - cpu0) / a.tick
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s / n * 1e6,
        "wall_s": wall,
    }


def plan(a):
    """Groups of cells; a server runs a whole group before the other does.
    Each cell is (label, test, requests, pipeline)."""
    if a.workload == "cells":
        groups = []
        for p, n in ((1, a.n_p1), (16, a.n_p16)):
            for test in a.tests.split(","):
                groups.append([(f"{test} P{p}", test, n, p)])
        return groups
    half = a.n // 2
    return [[(f"SET P{a.pipeline}", "SET", half, a.pipeline),
             (f"GET P{a.pipeline}", "GET", half, a.pipeline)]]


def total_of(runs, cells):
    """The notes workload as one run: both halves together."""
    reqs = sum(c[2] for c in cells)
    secs = sum(c[2] / r["rps"] for c, r in zip(cells, runs))
    cpu = sum(r["cpu_s"] for r in runs)
    return {"rps": reqs / secs, "p50_ms": None, "p99_ms": None, "cpu_s": cpu,
            "cpu_us_per_req": cpu / reqs * 1e6, "wall_s": sum(r["wall_s"] for r in runs)}


METRICS = (("rps", "ops/s"), ("p99_ms", "p99 ms"), ("cpu_us_per_req", "CPU µs/req"))


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(metric, v):
    if v is None:
        return "–"
    if metric == "rps":
        return f"{v:,.0f}"
    if metric == "p99_ms":
        return f"{v:.3f}"
    if metric == "ratio":
        return f"{v:.2f}×"
    return f"{v:.2f}"


def summarize(cells, servers, rounds):
    """Per cell: medians per server, median of per-round ratios, ratio of medians."""
    a_name, b_name = servers[0][0], servers[1][0]
    out = []
    for label, info in cells.items():
        runs = info["runs"]
        entry = {"cell": label, "test": info["test"], "requests": info["requests"],
                 "pipeline": info["pipeline"], "medians": {}, "ratios": {},
                 "ratio_of_medians": {}}
        for name, _, _ in servers:
            entry["medians"][name] = {m: med(r[m] for r in runs[name]) for m, _ in METRICS}
        for m, _ in METRICS:
            ratios = [x[m] / y[m] for x, y in zip(runs[a_name], runs[b_name])
                      if x[m] is not None and y[m]]
            entry["ratios"][m] = med(ratios)
            ma, mb = entry["medians"][a_name][m], entry["medians"][b_name][m]
            entry["ratio_of_medians"][m] = ma / mb if ma is not None and mb else None
        out.append(entry)
    return out


def net(a):
    servers = [(n, int(p), int(pid)) for n, p, pid in a.server]
    if len(servers) != 2:
        fail("net needs exactly two --server NAME PORT PID")
    a.tick = os.sysconf("SC_CLK_TCK")
    if a.clients is None:
        a.clients = 50 if a.workload == "cells" else 100
    groups = plan(a)
    info = machine_info(a)
    if a.prefill:
        for name, port, _ in servers:
            t0 = time.monotonic()
            prefill(a.host, port, a.keyspace, a.data_size)
            log(f"prefilled {name} with {a.keyspace:,} keys of {a.data_size} bytes "
                f"in {time.monotonic() - t0:.1f} s")

    cells = {}
    for g in groups:
        for label, test, n, p in g:
            cells[label] = {"test": test, "requests": n, "pipeline": p,
                            "runs": {s[0]: [] for s in servers}}
    if a.workload == "notes":
        cells["SET+GET"] = {"test": "SET,GET", "requests": a.n // 2 * 2,
                            "pipeline": a.pipeline, "runs": {s[0]: [] for s in servers}}
    raw = []
    t_start = time.monotonic()
    for rnd in range(a.rounds):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for g in groups:
            for pos, srv in enumerate(order):
                group_runs = []
                for label, test, n, p in g:
                    r = run_benchmark(a, srv, test, n, p)
                    group_runs.append(r)
                    cells[label]["runs"][srv[0]].append(r)
                    raw.append({"round": rnd + 1, "position": pos + 1, "server": srv[0],
                                "cell": label, "requests": n, **r})
                    log(f"round {rnd + 1}/{a.rounds} {label:8} {srv[0]:7} "
                        f"{r['rps']:>12,.0f} ops/s  p99 {r['p99_ms']:.3f} ms  "
                        f"CPU {r['cpu_us_per_req']:.2f} µs/req  ({r['wall_s']:.1f} s)")
                if a.workload == "notes":
                    t = total_of(group_runs, g)
                    cells["SET+GET"]["runs"][srv[0]].append(t)
                    raw.append({"round": rnd + 1, "position": pos + 1, "server": srv[0],
                                "cell": "SET+GET", "requests": a.n // 2 * 2, **t})
    elapsed = time.monotonic() - t_start
    summary = summarize(cells, servers, a.rounds)
    print_net(a, servers, info, summary, raw, elapsed)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"workload": a.workload, "command": a.cmdline, "info": info,
                       "params": {k: getattr(a, k) for k in
                                  ("rounds", "clients", "keyspace", "data_size", "bench_args",
                                   "n_p1", "n_p16", "n", "pipeline", "prefill")},
                       "servers": [s[0] for s in servers], "cells": summary, "runs": raw,
                       "elapsed_s": round(elapsed, 1)}, f, indent=2)
            f.write("\n")
        log(f"wrote {a.json}")


def print_net(a, servers, info, summary, raw, elapsed):
    A, B = servers[0][0], servers[1][0]
    if a.workload == "cells":
        print(f"### {A} vs {B} over the network: SET and GET, {a.clients} clients, "
              f"{a.keyspace:,} random keys, {a.data_size}-byte values")
    else:
        print(f"### Self-scaling notes' workload over the network: {a.clients} clients, "
              f"{a.keyspace:,} keys, {a.n // 2 * 2:,} ops, half SET then half GET")
    print()
    if a.cmdline:
        print(f"`{a.cmdline}`")
        print()
    extra = f" {a.bench_args}" if a.bench_args else ""
    tests = "|".join(t.lower() for t in a.tests.split(",")) if a.workload == "cells" else "set|get"
    print(f"Each run: `redis-benchmark -t <{tests}> -n <requests> -c {a.clients} "
          f"-r {a.keyspace} -d {a.data_size} -P <pipeline>{extra} --csv`"
          + (", SET then GET back to back per server" if a.workload == "notes" else "")
          + f". Medians of {a.rounds} rounds; within a round each cell runs on both "
          f"servers back to back, {A} first in odd rounds and {B} first in even ones. "
          f"Ratios are {A}/{B}, each the median of the per-round ratios (above 1 favours "
          f"{A} for ops/s, below 1 for p99 and CPU). CPU is the server "
          f"process's utime+stime from /proc per request. "
          + ("Both keyspaces prefilled with every key first. " if a.prefill else "")
          + f"{info['cores']} cores shared by server and client; "
          f"{info.get('redis_server', '')}; {info['redis_benchmark']}; "
          f"load average {info['loadavg_at_start']} at start; {info['date']}.")
    print()
    cols = []
    for m, title in METRICS:
        cols += [f"{A} {title}", f"{B} {title}", f"{title.split()[0]} ratio"]
    print("| cell | requests | " + " | ".join(cols) + " |")
    print("|---|---:|" + "---:|" * len(cols))
    for e in summary:
        cells = []
        for m, _ in METRICS:
            cells += [fmt(m, e["medians"][A][m]), fmt(m, e["medians"][B][m]),
                      fmt("ratio", e["ratios"][m])]
        print(f"| {e['cell']} | {e['requests']:,} | " + " | ".join(cells) + " |")
    print()
    print(f"Raw runs (round, position in the round's pair); {elapsed:.0f} s in all:")
    print()
    print("| cell | round | pos | server | ops/s | p50 ms | p99 ms | CPU s | CPU µs/req | wall s |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(raw, key=lambda r: (list(x["cell"] for x in summary).index(r["cell"]),
                                        r["round"], r["position"])):
        print(f"| {r['cell']} | {r['round']} | {r['position']} | {r['server']} | "
              f"{r['rps']:,.0f} | {fmt('p99_ms', r['p50_ms'])} | {fmt('p99_ms', r['p99_ms'])} | "
              f"{r['cpu_s']:.2f} | {r['cpu_us_per_req']:.2f} | {r['wall_s']:.1f} |")
    sys.stdout.flush()


# ---------------------------------------------------------------- idle

IDLE_METRICS = (("kb_per_conn", "KB/conn"), ("rss_before_kb", "RSS before KB"),
                ("rss_held_kb", "RSS with conns KB"), ("hold_cpu_ms", "idle CPU ms"),
                ("open_s", "open s"))


def idle(a):
    servers = [(n, int(p), cmd) for n, p, cmd in a.server]
    if len(servers) != 2:
        fail("idle needs exactly two --server NAME PORT CMD")
    info = machine_info(a)
    runs = {s[0]: [] for s in servers}
    raw = []
    for rnd in range(a.rounds):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for pos, (name, port, cmd) in enumerate(order):
            argv = [sys.executable, os.path.join(HERE, "idle-connections.py"), "--port",
                    str(port), "--conns", str(a.conns), "--hold", str(a.hold),
                    "--server-cmd", cmd, "--label", name, "--json"]
            res = run_child(argv)
            if res.returncode != 0:
                fail(f"{name}: idle-connections failed (exit {res.returncode}):\n"
                     f"{res.stdout}{res.stderr}")
            r = json.loads(res.stdout.strip().splitlines()[-1])
            runs[name].append(r)
            raw.append({"round": rnd + 1, "position": pos + 1, "server": name, **r})
            log(f"round {rnd + 1}/{a.rounds} {name:7} {r['kb_per_conn']:.2f} KB/conn, "
                f"RSS {r['rss_before_kb']:,} -> {r['rss_held_kb']:,} KB, "
                f"idle CPU {r['hold_cpu_ms']:.0f} ms")
    A, B = servers[0][0], servers[1][0]
    print(f"### Memory per idle connection: {a.conns:,} connections, each PINGed once, "
          f"held {a.hold:g} s")
    print()
    if a.cmdline:
        print(f"`{a.cmdline}`")
        print()
    print(f"scripts/idle-connections.py against a fresh server per run; medians of "
          f"{a.rounds} rounds, {A} first in odd rounds and {B} first in even ones. "
          f"KB/conn = (VmRSS after the hold - VmRSS before opening) / connections. "
          f"{info['cores']} cores; {info.get('redis_server', '')}; {info['date']}.")
    print()
    print("| server | " + " | ".join(t for _, t in IDLE_METRICS) + " |")
    print("|---|" + "---:|" * len(IDLE_METRICS))
    for name, _, _ in servers:
        vals = [med(r[m] for r in runs[name]) for m, _ in IDLE_METRICS]
        print(f"| {name} | {vals[0]:.2f} | {vals[1]:,.0f} | {vals[2]:,.0f} | "
              f"{vals[3]:.0f} | {vals[4]:.2f} |")
    ratios = [x["kb_per_conn"] / y["kb_per_conn"] for x, y in zip(runs[A], runs[B])
              if y["kb_per_conn"] > 0]
    ratio = med(ratios)
    print()
    print(f"KB per connection {A}/{B}: "
          + (f"{ratio:.2f}× (median of per-round ratios)" if ratio is not None else "–"))
    print()
    print("Raw runs:")
    print()
    print("| round | pos | server | KB/conn | RSS before KB | RSS open KB | RSS held KB "
          "| RSS closed KB | idle CPU ms | open s |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in raw:
        print(f"| {r['round']} | {r['position']} | {r['server']} | {r['kb_per_conn']:.2f} | "
              f"{r['rss_before_kb']:,} | {r['rss_open_kb']:,} | {r['rss_held_kb']:,} | "
              f"{r['rss_closed_kb']:,} | {r['hold_cpu_ms']:.0f} | {r['open_s']:.2f} |")
    sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"workload": "idle", "command": a.cmdline, "info": info,
                       "params": {"rounds": a.rounds, "conns": a.conns, "hold": a.hold},
                       "servers": [s[0] for s in servers],
                       "medians": {n: {m: med(r[m] for r in runs[n]) for m, _ in IDLE_METRICS}
                                   for n, _, _ in servers},
                       "kb_per_conn_ratio": ratio, "runs": raw}, f, indent=2)
            f.write("\n")
        log(f"wrote {a.json}")


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)

    def common(p):
        p.add_argument("--rounds", type=int, default=5)
        p.add_argument("--json", help="also write the results to this JSON file")
        p.add_argument("--cmdline", default="", help="the command to print above the table")
        p.add_argument("--redis-benchmark", default="redis-benchmark")
        p.add_argument("--redis-server", help="for its version in the report")
        p.add_argument("--tandem-bin", help="for the report")

    n = sub.add_parser("net", help="redis-benchmark cells against two running servers")
    common(n)
    n.add_argument("--server", nargs=3, action="append", required=True,
                   metavar=("NAME", "PORT", "PID"), help="twice: numerator first")
    n.add_argument("--workload", choices=("cells", "notes"), default="cells")
    n.add_argument("--host", default="127.0.0.1")
    n.add_argument("--n-p1", type=int, default=300_000, help="cells: requests at pipeline 1")
    n.add_argument("--n-p16", type=int, default=1_000_000, help="cells: requests at pipeline 16")
    n.add_argument("-n", type=int, default=21_000_000, help="notes: total ops, half SET half GET")
    n.add_argument("-P", "--pipeline", type=int, default=1, help="notes: pipeline depth")
    n.add_argument("-c", "--clients", type=int, help="default 50 (cells) or 100 (notes)")
    n.add_argument("-r", "--keyspace", type=int, default=1_000_000)
    n.add_argument("-d", "--data-size", type=int, default=64)
    n.add_argument("--bench-args", default="", help="extra redis-benchmark arguments")
    n.add_argument("--tests", default="SET,GET", help="cells: redis-benchmark tests, comma-separated")
    n.add_argument("--no-prefill", dest="prefill", action="store_false")

    i = sub.add_parser("idle", help="memory per idle connection, fresh servers per run")
    common(i)
    i.add_argument("--server", nargs=3, action="append", required=True,
                   metavar=("NAME", "PORT", "CMD"), help="twice: numerator first")
    i.add_argument("--conns", type=int, default=10_000)
    i.add_argument("--hold", type=float, default=5.0)

    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if a.rounds < 1:
        fail("--rounds must be at least 1")
    (net if a.mode == "net" else idle)(a)


if __name__ == "__main__":
    main()
