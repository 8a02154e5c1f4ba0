#!/usr/bin/env python3
"""Growth over the network: what clients see while a keyspace grows from
empty, Tandem against Redis 7.0 side by side (issue 12).

Each round starts every server afresh (empty), the order rotating by round
(A B, B A, ... for two), and runs these phases on it, one after another:

  grow      redis-benchmark SET at pipeline 16 (-c 50 -n N -r R -d 64) on the
            empty keyspace, which grows to ~R(1-e^(-N/R)) keys (defaults:
            7M requests over 3M keys, ~2.8M keys)
  steady    every key of -r SET once more (unmeasured, so no SET can add a
            key), Tandem's resizes left to finish, then the same load: the
            same keyspace, no growth
  flush16   FLUSHALL, then the same load at once (growth during the run)
  flush1    FLUSHALL, then SET at pipeline 1 (-n --n-p1)

During every phase a probe (`tandem bench net --workload probe`: one
connection, one GET of a random key per millisecond, each round trip timed)
runs beside redis-benchmark and stops when it ends. Per phase and server:
redis-benchmark's ops/s and p99, the probe's p99 / p99.9 / max, and the
server's CPU time per request (utime+stime of the whole process from
/proc/<pid>/stat, before and after), split by thread name for Tandem (so a
resizer's share shows). Reports medians over rounds and the median of the
per-round ratios of each server to the last one given (Redis by default).

Usage: see --help; build target/release/tandem first. A run with the
defaults takes about 10 minutes on 2 cores.
"""
import argparse
import csv
import json
import os
import shlex
import socket
import subprocess
import sys
import time

from bench_vs_redis import cpu_ticks, log, med, prefill

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")

PHASES = ("grow", "steady", "flush16", "flush1")
METRICS = (
    ("rps", "ops/s"),
    ("bench_p99_ms", "SET p99 ms"),
    ("probe_p99_ms", "probe p99 ms"),
    ("probe_p999_ms", "probe p99.9 ms"),
    ("probe_max_ms", "probe max ms"),
    ("cpu_us_per_req", "CPU µs/req"),
)


def fail(msg):
    print(f"bench-grow: {msg}", file=sys.stderr)
    sys.exit(1)


def thread_ticks(pid):
    """{thread name: utime+stime ticks} over the process's threads, names
    summed (two serving threads share a name)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        fail(f"server pid {pid} is gone (did it crash? see its log)")
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended between listdir and open
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2:].split()
        out[name] = out.get(name, 0) + int(rest[11]) + int(rest[12])
    return out


def command(port, *args, timeout=120):
    """One command over a fresh connection; returns the raw reply bytes."""
    req = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
            if data.startswith((b"+", b"-", b":")) and data.endswith(b"\r\n"):
                break
            if data.startswith(b"$"):
                head, _, body = data.partition(b"\r\n")
                if int(head[1:]) < 0 or len(body) >= int(head[1:]) + 2:
                    break
    return data


def wait_ready(port, proc, deadline=20):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            fail(f"server on port {port} exited with {proc.returncode}")
        try:
            if command(port, "PING", timeout=1).startswith(b"+PONG"):
                return
        except OSError:
            pass
        time.sleep(0.05)
    fail(f"server on port {port} did not answer PING within {deadline} s")


def info_shards(port):
    """Tandem's INFO shards as text, or '' from a server without it."""
    reply = command(port, "INFO", "shards").decode(errors="replace")
    return reply if "shards_total" in reply else ""


def settle(port, deadline=60):
    """Waits until Tandem's resizer has nothing left to do: no migration
    running and the shard count unchanged over a policy interval's worth of
    polls. Redis needs nothing (its rehash is finished by its cron)."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        text = info_shards(port)
        if not text:
            return
        if "resizing=1" not in text:
            total = next((ln for ln in text.splitlines() if ln.startswith("shards_total")), "")
            if total == last:
                return
            last = total
        time.sleep(0.2)
    log(f"port {port}: still resizing after {deadline} s; measuring anyway")


def shard_count(shards_text):
    """Database 0's shard count in an `INFO shards` text, or None."""
    for ln in shards_text.splitlines():
        if ln.startswith("db0:shards="):
            return int(ln.split(",")[0].split("=")[1])
    return None


def run_phase(a, name, port, pid, pipeline, n):
    bench = [a.redis_benchmark, "-h", "127.0.0.1", "-p", str(port), "-t", "set", "-n", str(n),
             "-c", str(a.clients), "-r", str(a.keyspace), "-d", str(a.data_size),
             "-P", str(pipeline), "--csv"]
    probe = [a.tandem_bin, "bench", "net", "--workload", "probe", "--port", str(port),
             "--keyspace", str(a.keyspace), "--interval-us", str(a.probe_interval_us),
             "--seconds", "600", "--until-stdin-closes", "--json"]
    threads0, cpu0 = thread_ticks(pid), cpu_ticks(pid)
    prober = subprocess.Popen(probe, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    res = subprocess.run(bench, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    cpu1, threads1 = cpu_ticks(pid), thread_ticks(pid)
    out, err = prober.communicate(timeout=120)
    if res.returncode != 0 or "Error" in res.stderr:
        fail(f"{name}: `{shlex.join(bench)}` failed: {res.stderr.strip()} {res.stdout.strip()}")
    if prober.returncode != 0:
        fail(f"{name}: probe failed: {err.strip()}")
    rows = [r for r in csv.reader(res.stdout.splitlines()) if r]
    header = next((r for r in rows if r[0] == "test"), None)
    body = [r for r in rows if header and r[0] == "SET"]
    if not header or len(body) != 1:
        fail(f"{name}: could not read redis-benchmark CSV:\n{res.stdout}\n{res.stderr}")
    row = dict(zip(header, body[0]))
    p = json.loads(out.strip().splitlines()[-1])
    cpu_s = (cpu1 - cpu0) / TICK
    threads = {k: round((v - threads0.get(k, 0)) / TICK, 3) for k, v in threads1.items()
               if v - threads0.get(k, 0) > 0}
    return {
        "rps": float(row["rps"]),
        "bench_p50_ms": float(row["p50_latency_ms"]),
        "bench_p99_ms": float(row["p99_latency_ms"]),
        "bench_max_ms": float(row["max_latency_ms"]),
        "probe_p50_ms": p["p50_us"] / 1e3,
        "probe_p99_ms": p["p99_us"] / 1e3,
        "probe_p999_ms": p["p999_us"] / 1e3,
        "probe_max_ms": p["max_us"] / 1e3,
        "probe_requests": p["requests"],
        "probe_worst": p["worst"][:5],
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s / n * 1e6,
        "thread_cpu_s": threads,
        "wall_s": wall,
    }


def one_server(a, name, cmd, port):
    """A fresh server through every phase; returns {phase: result}."""
    argv = shlex.split(cmd.replace("{port}", str(port)))
    # The server runs in a scratch directory: a relative path to its
    # binary is from the repository root.
    if "/" in argv[0] and not os.path.isabs(argv[0]):
        argv[0] = os.path.join(ROOT, argv[0])
    logf = open(os.path.join(a.workdir, f"{name}-{port}.log"), "ab")
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=a.workdir)
    try:
        wait_ready(port, proc)
        out = {}
        for phase in PHASES:
            if phase in ("flush16", "flush1"):
                command(port, "FLUSHALL")
            if phase == "steady":
                prefill("127.0.0.1", port, a.keyspace, a.data_size, batch=5000)
                settle(port)
            pipeline, n = (1, a.n_p1) if phase == "flush1" else (16, a.n)
            r = run_phase(a, name, port, proc.pid, pipeline, n)
            shards_text = info_shards(port)
            r["shards_after"] = shard_count(shards_text)
            r["resizes"] = [ln for ln in shards_text.splitlines()
                            if ln.startswith("db0_resize_")]
            out[phase] = r
            log(f"  {name:7} {phase:8} {r['rps']:>11,.0f} ops/s  SET p99 {r['bench_p99_ms']:6.2f}"
                f"  probe p99 {r['probe_p99_ms']:6.2f} p99.9 {r['probe_p999_ms']:6.2f} max "
                f"{r['probe_max_ms']:6.2f} ms  CPU {r['cpu_us_per_req']:.2f} µs/req"
                + (f"  shards {r['shards_after']}" if r["shards_after"] else ""))
        return out
    finally:
        try:
            command(port, "SHUTDOWN", "NOSAVE", timeout=5)
        except OSError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=7_000_000, help="SET requests per P16 phase")
    ap.add_argument("--n-p1", type=int, default=300_000, help="SET requests in flush1")
    ap.add_argument("-c", dest="clients", type=int, default=50)
    ap.add_argument("-r", dest="keyspace", type=int, default=3_000_000)
    ap.add_argument("-d", dest="data_size", type=int, default=64)
    ap.add_argument("--probe-interval-us", type=int, default=1000)
    ap.add_argument("--server", nargs=2, action="append", metavar=("NAME", "CMD"),
                    help="a server to measure: its name and command line, with {port} "
                         "for its port (two or more, the reference last; default: tandem "
                         "and redis)")
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    ap.add_argument("--redis-benchmark", default="redis-benchmark")
    ap.add_argument("--port", type=int, default=6390)
    ap.add_argument("--json", help="also write every run to this file")
    a = ap.parse_args()
    if not a.server:
        a.server = [["tandem", f"{a.tandem_bin} server --bind 127.0.0.1 --port {{port}}"],
                    ["redis", "redis-server --port {port} --save '' --appendonly no "
                              "--bind 127.0.0.1"]]
    if len(a.server) < 2:
        fail("give two or more --server NAME CMD; ratios are against the last")
    a.workdir = os.path.join(ROOT, "target", "bench-grow")
    os.makedirs(a.workdir, exist_ok=True)
    cmdline = "python3 scripts/bench_grow.py" + "".join(" " + shlex.quote(x) for x in sys.argv[1:])
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    load0 = open("/proc/loadavg").read().split()[0]
    runs = {s[0]: [] for s in a.server}
    for rnd in range(a.rounds):
        # Each round starts with the next server (A B C, B C A, ...) and
        # every second one runs backwards, so no server always follows
        # the same one.
        k = rnd % len(a.server)
        order = a.server[k:] + a.server[:k]
        if rnd % 2:
            order = order[::-1]
        log(f"round {rnd + 1}/{a.rounds}: " + " ".join(n for n, _ in order))
        for name, cmd in order:
            runs[name].append(one_server(a, name, cmd, a.port))
    names = [n for n, _ in a.server]
    ref = names[-1]
    print(f"`{cmdline}` ({started}, load {load0} at start, {os.cpu_count()} cores)")
    print()
    print(f"Medians of {a.rounds} rounds, a fresh server per run, the order rotating by "
          f"round. Ratios: each server against {ref}, the median of per-round ratios.")
    print()
    print("| phase | measure | " + " | ".join(names) + " | "
          + " | ".join(f"{n}/{ref}" for n in names[:-1]) + " |")
    print("|---|---|" + "---:|" * (2 * len(names) - 1))
    for phase in PHASES:
        for m, title in METRICS:
            f = (lambda v: f"{v:,.0f}") if m == "rps" else (lambda v: f"{v:.2f}")
            vals = [f(med(r[phase][m] for r in runs[n])) for n in names]
            ratios = [med(x[phase][m] / y[phase][m] for x, y in zip(runs[n], runs[ref])
                          if y[phase][m]) for n in names[:-1]]
            print(f"| {phase} | {title} | " + " | ".join(vals) + " | "
                  + " | ".join(f"{r:.2f}×" for r in ratios) + " |")
    print()
    for name in names:
        shares = {}
        for r in runs[name]:
            for k, v in r["grow"]["thread_cpu_s"].items():
                shares.setdefault(k, []).append(v)
        if shares:
            print(f"{name}, CPU seconds by thread during `grow` (medians): "
                  + ", ".join(f"{k} {med(v):.2f}" for k, v in sorted(shares.items())))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"command": cmdline, "started": started, "load_at_start": load0,
                       "servers": a.server, "runs": runs}, f, indent=1)
        log(f"wrote {a.json}")


if __name__ == "__main__":
    main()
