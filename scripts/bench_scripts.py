#!/usr/bin/env python3
"""EVALSHA side by side: Tandem against Redis 7.0 (issue 17's targets).

Both servers are running already (`--server NAME PORT PID`, twice). Each
script is loaded into both (SCRIPT LOAD), then every cell runs
redis-benchmark's custom command on one server and then the other, the
first alternating by round, as scripts/bench_vs_redis.py does for its
tests; reports the medians of ops/s, p99, server CPU per request (from
/proc), and of the per-round ratios first/second.

Cells: `incr` (EVALSHA of a script doing INCR on one key), `rw4` (one
reading and writing 4 keys, each named with redis-benchmark's random
placeholder, so they fall on different shards), at pipeline 1 and 16,
50 clients. Then memory per cached script: N scripts loaded into a fresh
process each (`--memory-cmd NAME CMD`), used_memory before and after.

  python3 scripts/bench_scripts.py --server tandem 6400 PID --server redis 6390 PID
"""
import argparse
import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_commands  # noqa: E402
from bench_vs_redis import fail, log  # noqa: E402

SCRIPTS = {
    "incr": ("return redis.call('incr', KEYS[1])", ["counter"]),
    "rw4": (
        "local n = 0 for _, k in ipairs(KEYS) do "
        "local v = tonumber(redis.call('get', k) or '0') "
        "redis.call('set', k, v + 1) n = n + v end return n",
        ["a:__rand_int__", "b:__rand_int__", "c:__rand_int__", "d:__rand_int__"],
    ),
}


def call(port, *args):
    s = socket.create_connection(("127.0.0.1", port))
    req = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() if isinstance(x, str) else x for x in args))
    s.sendall(req)
    f = s.makefile("rb")
    line = f.readline()
    if line[:1] == b"$":
        data = f.read(int(line[1:]) + 2)[:-2]
        s.close()
        return data.decode()
    s.close()
    return line.decode().strip()


def info_field(port, section, field):
    text = call(port, "INFO", section)
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    fail(f"no {field} in INFO {section} on port {port}")


def run_cell(a, srv, sha, keys, n, pipeline):
    command = shlex.join(["evalsha", sha, str(len(keys))] + keys)
    return bench_commands.run_cell(a, srv, command, n, pipeline)


def memory_per_script(cmd, port, count):
    """Starts `cmd` (which must listen on `port`), loads `count` distinct
    scripts and runs each from four connections (so on every serving
    thread), then reads used_memory and used_memory_lua; the bytes per
    script of each (Redis counts its interpreter apart from used_memory,
    Tandem inside it)."""
    proc = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                call(port, "PING")
                break
            except OSError:
                if time.monotonic() > deadline:
                    fail(f"`{cmd}` did not start")
                time.sleep(0.05)
        before = (info_field(port, "memory", "used_memory"), info_field(port, "memory", "used_memory_lua"))
        for i in range(count):
            body = f"local x = {i} return redis.call('get', KEYS[1]) or x"
            sha = call(port, "SCRIPT", "LOAD", body)
            for _ in range(4):
                call(port, "EVALSHA", sha, "1", "k")
        after = (info_field(port, "memory", "used_memory"), info_field(port, "memory", "used_memory_lua"))
        return ((after[0] - before[0]) / count, (after[1] - before[1]) / count)
    finally:
        call(port, "SHUTDOWN", "NOSAVE") if proc.poll() is None else None
        proc.wait(timeout=20)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", nargs=3, action="append", required=True, metavar=("NAME", "PORT", "PID"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100_000)
    p.add_argument("--n-p1", type=int, default=200_000)
    p.add_argument("--n-p16", type=int, default=1_000_000)
    p.add_argument("--redis-benchmark", default="redis-benchmark")
    p.add_argument("--memory-cmd", nargs=3, action="append", default=[],
                   metavar=("NAME", "PORT", "CMD"), help="a fresh server for the memory cell")
    p.add_argument("--scripts", type=int, default=10_000, help="scripts for the memory cell")
    p.add_argument("--memory-only", action="store_true", help="only the memory cells")
    a = p.parse_args()
    a.tick = os.sysconf("SC_CLK_TCK")
    servers = [(n, int(port), int(pid)) for n, port, pid in a.server]
    shas = {}
    for key, (body, _) in SCRIPTS.items():
        got = {call(port, "SCRIPT", "LOAD", body) for _, port, _ in servers}
        if len(got) != 1:
            fail(f"the servers named {key} differently: {got}")
        shas[key] = got.pop()
    cells = [(f"{k} P{p}", k, n, p) for p, n in ((1, a.n_p1), (16, a.n_p16)) for k in SCRIPTS]
    if a.memory_only:
        cells = []
    results = {c[0]: {s[0]: [] for s in servers} for c in cells}
    ratios = {c[0]: [] for c in cells}
    for r in range(a.rounds):
        order = servers if r % 2 == 0 else servers[::-1]
        for label, key, n, pipeline in cells:
            got = {}
            for srv in order:
                got[srv[0]] = run_cell(a, srv, shas[key], SCRIPTS[key][1], n, pipeline)
                results[label][srv[0]].append(got[srv[0]])
            first, second = servers[0][0], servers[1][0]
            ratios[label].append(got[first]["rps"] / got[second]["rps"])
            log(f"round {r + 1} {label}: " + ", ".join(
                f"{s} {got[s]['rps']:.0f}/s p99 {got[s]['p99_ms']:.3f} ms cpu {got[s]['cpu_us_per_req']:.2f} us"
                for s in got))
    first, second = servers[0][0], servers[1][0]
    if cells:
        bench_commands.print_table([c[0] for c in cells], results, ratios, first, second)
    for name, port, cmd in a.memory_cmd:
        mem, lua = memory_per_script(cmd, int(port), a.scripts)
        print(f"| memory per cached script, {name} | used_memory {mem:.0f} B, used_memory_lua {lua:.0f} B "
              f"({a.scripts} scripts, each run from 4 connections) |")


if __name__ == "__main__":
    main()
