#!/usr/bin/env python3
"""The measuring half of scripts/bench-net.sh (run that, not this).

Runs `tandem bench net` (the Rust load generator: raw RESP over TCP, one
Tokio thread) against Tandem and Redis side by side. For each workload it
starts a fresh server pair (empty, in a scratch directory), prefills the
keyspace for the SET workloads, then runs ROUNDS rounds: the first server
first in odd rounds, the second first in even ones (A B, B A, ...). Each
run gets the server's pid, so the load generator reads the server's CPU
time (utime + stime from /proc/<pid>/stat) over the measured phase alone.

Workloads:
  fast     MULTI, K x SET on one key, EXEC per round trip (Tandem: one shard)
  multi    MULTI, K x SET on K distinct random keys, EXEC (several shards)
  fanout   1 publisher, S subscribers of one channel, M messages

Reports the medians of every field per server, the medians of the per-round
ratios first/second (each ratio's two runs are adjacent in time, which
cancels most of a shared machine's drift), a Markdown table, and every run.
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import shutil
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_vs_redis import prefill, run_child, version  # noqa: E402


def fail(msg):
    print(f"bench-net: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- servers


def ping(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Servers:
    """A fresh server pair; stopped on exit, whatever the exit."""

    def __init__(self, specs, scratch):
        self.specs = specs  # [(name, port, argv)]
        self.scratch = scratch
        self.procs = []

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            # __exit__ does not run when __enter__ raises: stop what started.
            self.__exit__(None, None, None)
            raise

    def _start(self):
        out = []
        for name, port, argv in self.specs:
            if listening(port):
                fail(f"something already listens on port {port}; use --{name.lower()}-port")
            d = tempfile.mkdtemp(prefix=f"{name}.", dir=self.scratch)
            logf = open(os.path.join(d, "server.log"), "w")
            p = subprocess.Popen(argv, cwd=d, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            self.procs.append((name, p, logf))
            t0 = time.monotonic()
            while not ping(port):
                if p.poll() is not None:
                    fail(f"{name} exited (code {p.returncode}) before answering PING: "
                         f"{shlex.join(argv)}; log in {d}")
                if time.monotonic() - t0 > 10:
                    fail(f"{name} did not answer PING on port {port} within 10 s")
                time.sleep(0.05)
            log(f"started {name} (pid {p.pid}, port {port}): {shlex.join(argv)}")
            out.append((name, port, p.pid))
        return out

    def __exit__(self, *exc):
        for _, p, _ in self.procs:
            if p.poll() is None:
                p.terminate()
        for name, p, logf in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            logf.close()
        return False


# ---------------------------------------------------------------- runs

# (field in the load generator's JSON, title, format)
MULTI_METRICS = (("tx_per_sec", "tx/s", "{:,.0f}"), ("p50_us", "p50 µs", "{:.0f}"),
                 ("p99_us", "p99 µs", "{:.0f}"),
                 ("server_cpu_us_per_tx", "server CPU µs/tx", "{:.2f}"))
FANOUT_METRICS = (("deliveries_per_sec", "deliveries/s", "{:,.0f}"),
                  ("publish_per_sec", "publishes/s", "{:,.0f}"),
                  ("server_cpu_us_per_delivery", "server CPU µs/delivery", "{:.3f}"))


def net_args(a, workload):
    if workload == "fanout":
        return ["--workload", "fanout", "--subscribers", str(a.subscribers),
                "--publishers", str(a.publishers), "--messages", str(a.messages),
                "--value-size", str(a.value_size), "--batch", str(a.batch),
                "--timeout", str(a.timeout)]
    return ["--workload", "multi", "--mode", workload, "--clients", str(a.clients),
            "--seconds", str(a.seconds), "--keys-per-tx", str(a.keys_per_tx),
            "--keyspace", str(a.keyspace), "--value-size", str(a.value_size),
            "--command", a.command]


def run_once(a, workload, srv, rnd):
    name, port, pid = srv
    argv = [a.tandem_bin, "bench", "net", "--host", "127.0.0.1", "--port", str(port),
            "--server-pid", str(pid), "--threads", str(a.client_threads), "--json",
            "--seed", str(rnd + 1)] + net_args(a, workload)
    t0 = time.monotonic()
    res = run_child(argv)
    wall = time.monotonic() - t0
    if res.returncode != 0:
        fail(f"{name}: `{shlex.join(argv)}` failed (exit {res.returncode}):\n"
             f"{res.stderr.strip()}\n{res.stdout.strip()}")
    try:
        r = json.loads(res.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"{name}: could not read the load generator's JSON:\n{res.stdout}\n{res.stderr}")
    span = r["elapsed_s"]
    r["client_cores"] = r["client_cpu_s"] / span if r.get("client_cpu_s") is not None and span else None
    r["server_cores"] = r["server_cpu_s"] / span if r.get("server_cpu_s") is not None and span else None
    r["wall_s"] = wall
    if workload == "fanout" and r["delivered_fraction"] < 1:
        log(f"warning: {name} delivered only {r['delivered_fraction']:.4f} of the messages "
            f"({r['disconnected']} subscribers disconnected, timed out: {r['timed_out']})")
    return r


def describe(workload, r):
    if workload == "fanout":
        return (f"{r['deliveries_per_sec']:>12,.0f} deliveries/s  {r['publish_per_sec']:>9,.0f} pub/s  "
                f"server {fmt_opt(r['server_cpu_us_per_delivery'], '{:.3f}')} µs/delivery  "
                f"client {fmt_opt(r['client_cores'], '{:.2f}')} cores  "
                f"delivered {r['delivered_fraction']:.4f}  ({r['wall_s']:.1f} s)")
    return (f"{r['tx_per_sec']:>10,.0f} tx/s  p50 {r['p50_us']:.0f} µs  p99 {r['p99_us']:.0f} µs  "
            f"server {fmt_opt(r['server_cpu_us_per_tx'], '{:.2f}')} µs/tx  "
            f"client {fmt_opt(r['client_cores'], '{:.2f}')} cores  ({r['wall_s']:.1f} s)")


def fmt_opt(v, f):
    return "–" if v is None else f.format(v)


def bench_workload(a, workload, scratch):
    specs = [("Tandem", a.tandem_port, [a.tandem_bin, "server", "--port", str(a.tandem_port)]
              + shlex.split(a.tandem_args)),
             ("Redis", a.redis_port, [a.redis_server, "--port", str(a.redis_port), "--save", "",
                                      "--appendonly", "no", "--bind", "127.0.0.1"]
              + shlex.split(a.redis_args))]
    rounds = a.fanout_rounds if workload == "fanout" else a.rounds
    runs = {"Tandem": [], "Redis": []}
    raw = []
    with Servers(specs, scratch) as servers:
        if workload != "fanout" and a.prefill:
            for name, port, _ in servers:
                t0 = time.monotonic()
                prefill("127.0.0.1", port, a.keyspace, a.value_size)
                log(f"prefilled {name} with {a.keyspace:,} keys of {a.value_size} bytes "
                    f"in {time.monotonic() - t0:.1f} s")
        for rnd in range(rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for pos, srv in enumerate(order):
                r = run_once(a, workload, srv, rnd)
                runs[srv[0]].append(r)
                # After **r: the load generator's own "workload" is "multi"
                # for both transaction modes.
                raw.append({**r, "workload": workload, "round": rnd + 1, "position": pos + 1,
                            "server": srv[0]})
                log(f"{workload:6} round {rnd + 1}/{rounds} {srv[0]:6} {describe(workload, r)}")
    return runs, raw


def summarize(workload, runs):
    metrics = FANOUT_METRICS if workload == "fanout" else MULTI_METRICS
    fields = [m for m, _, _ in metrics] + ["client_cores", "server_cores"]
    if workload == "fanout":
        fields.append("delivered_fraction")
    out = {"workload": workload, "rounds": len(runs["Tandem"]),
           "medians": {n: {f: med(r.get(f) for r in rs) for f in fields} for n, rs in runs.items()},
           "ratios": {}}
    for f in fields:
        rs = [x[f] / y[f] for x, y in zip(runs["Tandem"], runs["Redis"])
              if x.get(f) is not None and y.get(f)]
        out["ratios"][f] = med(rs)
    return out


# ---------------------------------------------------------------- output


TITLES = {"fast": "MULTI/EXEC, one key per transaction",
          "multi": "MULTI/EXEC, a distinct key per command"}


def print_report(a, info, summaries, raw, elapsed):
    print("### Tandem vs Redis over the network: MULTI/EXEC transactions and pub/sub fan-out")
    print()
    if a.cmdline:
        print(f"`{a.cmdline}`")
        print()
    print(f"Load generator: `tandem bench net` (raw RESP over TCP, {a.client_threads} client "
          f"thread(s)), on the same machine as the server. Fresh servers per workload. "
          f"Tandem/Redis ratios are medians of the per-round ratios (above 1 favours Tandem for "
          f"throughput, below 1 for latency and CPU). Server CPU is utime+stime from /proc over "
          f"the measured phase; \"cores\" is CPU seconds over the measured span. "
          f"{info['cores']} cores shared by servers and client; {info['redis_server']}; "
          f"Tandem {info['git']}; load average {info['loadavg_at_start']} at start; {info['date']}.")
    print()
    multi = [s for s in summaries if s["workload"] != "fanout"]
    if multi:
        print(f"**Transactions**: {a.clients} clients, each one transaction per round trip "
              f"(`MULTI`, {a.keys_per_tx} × `{a.command.upper()} key"
              + (f" <{a.value_size} B>" if a.command == "set" else "")
              + f"`, `EXEC` in one write), {a.seconds:g} s per run, keys `key:%012d` from "
              f"{a.keyspace:,}" + (" (every key prefilled)" if a.prefill and a.command == "set" else "")
              + f"; medians of {a.rounds} rounds, Tandem first in odd rounds.")
        print()
        print("| workload | Tandem tx/s | Redis tx/s | ratio | Tandem cmds/s | Redis cmds/s "
              "| Tandem p50 µs | Redis p50 µs | Tandem p99 µs | Redis p99 µs | p99 ratio "
              "| Tandem CPU µs/tx | Redis CPU µs/tx | CPU ratio | client cores T / R |")
        print("|---|" + "---:|" * 14)
        for s in multi:
            T, R, q = s["medians"]["Tandem"], s["medians"]["Redis"], s["ratios"]
            k = a.keys_per_tx
            print(f"| {TITLES[s['workload']]} | {T['tx_per_sec']:,.0f} | {R['tx_per_sec']:,.0f} "
                  f"| {fmt_opt(q['tx_per_sec'], '{:.2f}×')} "
                  f"| {T['tx_per_sec'] * k:,.0f} | {R['tx_per_sec'] * k:,.0f} "
                  f"| {T['p50_us']:.0f} | {R['p50_us']:.0f} | {T['p99_us']:.0f} | {R['p99_us']:.0f} "
                  f"| {fmt_opt(q['p99_us'], '{:.2f}×')} "
                  f"| {fmt_opt(T['server_cpu_us_per_tx'], '{:.2f}')} "
                  f"| {fmt_opt(R['server_cpu_us_per_tx'], '{:.2f}')} "
                  f"| {fmt_opt(q['server_cpu_us_per_tx'], '{:.2f}×')} "
                  f"| {fmt_opt(T['client_cores'], '{:.2f}')} / {fmt_opt(R['client_cores'], '{:.2f}')} |")
        print()
    fan = [s for s in summaries if s["workload"] == "fanout"]
    if fan:
        s = fan[0]
        T, R, q = s["medians"]["Tandem"], s["medians"]["Redis"], s["ratios"]
        print(f"**Fan-out**: {a.subscribers:,} subscribers of one channel, {a.publishers} "
              f"publisher(s), {a.messages:,} messages of {a.value_size} bytes "
              f"({a.subscribers * a.messages:,} deliveries per run), {a.batch} PUBLISHes per "
              f"write, at most 2 batches unanswered. Deliveries/s = messages received by all "
              f"subscribers / time from the first publish to the last delivery; publishes/s over "
              f"the publisher's own span. Medians of {a.fanout_rounds} rounds.")
        print()
        print("| server | deliveries/s | publishes/s | server CPU µs/delivery | server cores "
              "| client cores | delivered |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n, m in (("Tandem", T), ("Redis", R)):
            print(f"| {n} | {m['deliveries_per_sec']:,.0f} | {m['publish_per_sec']:,.0f} "
                  f"| {fmt_opt(m['server_cpu_us_per_delivery'], '{:.3f}')} "
                  f"| {fmt_opt(m['server_cores'], '{:.2f}')} | {fmt_opt(m['client_cores'], '{:.2f}')} "
                  f"| {m['delivered_fraction']:.4f} |")
        print(f"| Tandem/Redis | {fmt_opt(q['deliveries_per_sec'], '{:.2f}×')} "
              f"| {fmt_opt(q['publish_per_sec'], '{:.2f}×')} "
              f"| {fmt_opt(q['server_cpu_us_per_delivery'], '{:.2f}×')} | | | |")
        print()
    print(f"Raw runs (round, position in the round's pair); {elapsed:.0f} s in all:")
    print()
    if multi:
        print("| workload | round | pos | server | tx/s | p50 µs | p99 µs | p99.9 µs | server CPU s "
              "| server µs/tx | client cores |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in raw:
            if r["workload"] == "fanout":
                continue
            print(f"| {r['workload']} | {r['round']} | {r['position']} | {r['server']} "
                  f"| {r['tx_per_sec']:,.0f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} "
                  f"| {r['p999_us']:.0f} | {fmt_opt(r['server_cpu_s'], '{:.2f}')} "
                  f"| {fmt_opt(r['server_cpu_us_per_tx'], '{:.2f}')} "
                  f"| {fmt_opt(r['client_cores'], '{:.2f}')} |")
        print()
    if fan:
        print("| workload | round | pos | server | deliveries/s | span s | publishes/s "
              "| server CPU s | server µs/delivery | client cores | delivered | disconnected |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in raw:
            if r["workload"] != "fanout":
                continue
            print(f"| fanout | {r['round']} | {r['position']} | {r['server']} "
                  f"| {r['deliveries_per_sec']:,.0f} | {r['elapsed_s']:.3f} "
                  f"| {r['publish_per_sec']:,.0f} | {fmt_opt(r['server_cpu_s'], '{:.2f}')} "
                  f"| {fmt_opt(r['server_cpu_us_per_delivery'], '{:.3f}')} "
                  f"| {fmt_opt(r['client_cores'], '{:.2f}')} | {r['delivered_fraction']:.4f} "
                  f"| {r['disconnected']} |")
        print()
    sys.stdout.flush()


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="fast,multi,fanout")
    ap.add_argument("--rounds", type=int, default=5, help="rounds for fast and multi")
    ap.add_argument("--fanout-rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--keys-per-tx", type=int, default=4)
    ap.add_argument("--keyspace", type=int, default=1_000_000)
    ap.add_argument("--command", choices=("set", "incr"), default="set")
    ap.add_argument("--value-size", type=int, default=64)
    ap.add_argument("--no-prefill", dest="prefill", action="store_false")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--publishers", type=int, default=1)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--client-threads", type=int, default=1)
    ap.add_argument("--tandem-port", type=int, default=6440)
    ap.add_argument("--redis-port", type=int, default=6441)
    ap.add_argument("--tandem-bin", required=True)
    ap.add_argument("--tandem-args", default="--bind 127.0.0.1")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--redis-args", default="")
    ap.add_argument("--json", help="also write everything as JSON to this file")
    ap.add_argument("--cmdline", default="")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workloads = [w for w in a.workloads.split(",") if w]
    for w in workloads:
        if w not in ("fast", "multi", "fanout"):
            fail(f"unknown workload {w!r} (fast, multi, fanout)")
    if a.rounds < 1 or a.fanout_rounds < 1:
        fail("rounds must be at least 1")
    if a.tandem_port == a.redis_port:
        fail("the two ports must differ")
    if a.command == "incr" and a.prefill:
        # Prefilled values are not integers: INCR would fail on every key.
        a.prefill = False
    words = version([a.redis_server, "--version"]).split()
    info = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "cores": os.cpu_count(),
            "loadavg_at_start": open("/proc/loadavg").read().split()[0],
            "redis_server": " ".join(w for w in words if not w.startswith(("sha=", "build="))),
            "tandem_bin": a.tandem_bin,
            "git": version(["git", "-C", HERE, "describe", "--always", "--dirty"])}
    t0 = time.monotonic()
    summaries, raw = [], []
    scratch = tempfile.mkdtemp(prefix="bench-net.")
    try:
        for w in workloads:
            runs, r = bench_workload(a, w, scratch)
            summaries.append(summarize(w, runs))
            raw += r
    except SystemExit as e:
        if e.code not in (0, 130, 143):
            log(f"bench-net: server logs kept in {scratch}")
            raise
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    except KeyboardInterrupt:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - t0
    print_report(a, info, summaries, raw, elapsed)
    if a.json:
        params = {k: getattr(a, k) for k in (
            "rounds", "fanout_rounds", "clients", "seconds", "keys_per_tx", "keyspace", "command",
            "value_size", "prefill", "subscribers", "publishers", "messages", "batch",
            "client_threads", "tandem_args", "redis_args")}
        with open(a.json, "w") as f:
            json.dump({"command": a.cmdline, "info": info, "params": params,
                       "summaries": summaries, "runs": raw, "elapsed_s": round(elapsed, 1)},
                      f, indent=2)
            f.write("\n")
        log(f"wrote {a.json}")


if __name__ == "__main__":
    main()
