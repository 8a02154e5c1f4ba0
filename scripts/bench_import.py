#!/usr/bin/env python3
"""RDB import speed: Tandem's `--import` against Redis loading the same
file at start-up, alternating A B A B, medians of --rounds.

Makes the file once with a real redis-server (DEBUG POPULATE for small
strings, plus lists, sets, hashes and sorted sets of every encoding, a
share of keys with a TTL), then each round starts a fresh redis-server on
it and reads "DB loaded from disk: X seconds" from its log, and starts a
fresh `tandem server --import` on it and reads the load time from its
log ("imported ... in X s", before the snapshot) and the snapshot time.
Also reports each side's CPU seconds from /proc for the whole start.

  python3 scripts/bench_import.py --bin target/release/tandem --keys 1000000 --rounds 5
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"redis-cli {' '.join(map(str, args))}: {out.stderr}")
    return out.stdout.strip()


def wait_log(path, pattern, proc, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            m = re.search(pattern, open(path, errors="replace").read())
            if m:
                return m
        if proc.poll() is not None:
            sys.exit(f"exited early: {open(path, errors='replace').read()[-2000:]}")
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {pattern!r} in {path}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_file(work, keys):
    port = free_port()
    d = os.path.join(work, "redis-src")
    os.makedirs(d)
    p = subprocess.Popen(["redis-server", "--port", str(port), "--dir", d, "--save", "",
                          "--enable-debug-command", "yes", "--logfile", os.path.join(d, "log")])
    try:
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        call(port, "debug", "populate", keys, "key", 16)
        # Collections: a tenth as many keys again, in every encoding.
        n = max(keys // 40, 1)
        script = (
            "for i=1,tonumber(ARGV[1]) do "
            "redis.call('rpush','l:'..i,'a','b','c',i); "
            "redis.call('sadd','s:'..i,i,i+1,i+2); "
            "redis.call('hset','h:'..i,'f1','v1','f2',i); "
            "redis.call('zadd','z:'..i,1,'a',2,'b',i,'c'); "
            "if i % 10 == 0 then redis.call('pexpire','key:'..i,86400000) end "
            "end return 1"
        )
        call(port, "eval", script, 0, n)
        call(port, "rpush", "biglist", *range(2000))
        call(port, "sadd", "bigset", *[f"m{i}" for i in range(2000)])
        call(port, "save")
        size = call(port, "dbsize")
    finally:
        p.terminate()
        p.wait()
    path = os.path.join(d, "dump.rdb")
    print(f"file: {os.path.getsize(path)} bytes, {size} keys", flush=True)
    return path


def redis_load(work, rdb):
    d = tempfile.mkdtemp(dir=work)
    shutil.copy(rdb, os.path.join(d, "dump.rdb"))
    log = os.path.join(d, "log")
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--dir", d, "--save", "",
                          "--logfile", log])
    try:
        m = wait_log(log, r"DB loaded from disk: ([0-9.]+) seconds", p)
        wait_log(log, r"Ready to accept connections", p)
        cpu = cpu_seconds(p.pid)
        return float(m.group(1)), None, cpu
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def tandem_import(work, rdb, binary):
    d = tempfile.mkdtemp(dir=work)
    log = os.path.join(d, "log")
    port = free_port()
    with open(log, "w") as out:
        p = subprocess.Popen([binary, "server", "--port", str(port), "--dir", d, "--save", "",
                              "--import", rdb], stdout=out, stderr=subprocess.STDOUT,
                             env={**os.environ, "NO_COLOR": "1"})
    try:
        m = wait_log(log, r"in ([0-9.]+) s; saved in ([0-9.]+) s", p)
        cpu = cpu_seconds(p.pid)
        return float(m.group(1)), float(m.group(2)), cpu
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bin", default="target/release/tandem")
    a.add_argument("--keys", type=int, default=1_000_000)
    a.add_argument("--rounds", type=int, default=5)
    a.add_argument("--file", help="an RDB file to use instead of making one")
    args = a.parse_args()
    work = tempfile.mkdtemp(prefix="bench-import-")
    try:
        rdb = args.file or make_file(work, args.keys)
        runs = {"redis": [], "tandem": []}
        for r in range(args.rounds):
            order = ["redis", "tandem"] if r % 2 == 0 else ["tandem", "redis"]
            for who in order:
                got = redis_load(work, rdb) if who == "redis" else tandem_import(work, rdb, args.bin)
                runs[who].append(got)
                save = f", then saved in {got[1]:.2f} s" if got[1] is not None else ""
                print(f"round {r + 1} {who}: loaded in {got[0]:.3f} s{save}, {got[2]:.2f} CPU s", flush=True)
        med = {w: [statistics.median(x[i] for x in v) for i in (0, 2)] for w, v in runs.items()}
        save = statistics.median(x[1] for x in runs["tandem"])
        # Until the imported data is durable in Tandem's format: load plus
        # snapshot, per round, then the median.
        ready = statistics.median(x[0] + x[1] for x in runs["tandem"])
        print(f"median load: redis {med['redis'][0]:.3f} s, tandem {med['tandem'][0]:.3f} s "
              f"(tandem/redis speed {med['redis'][0] / med['tandem'][0]:.2f}x); "
              f"tandem snapshot after it {save:.2f} s; "
              f"tandem load + snapshot {ready:.3f} s ({med['redis'][0] / ready:.2f}x Redis's load); "
              f"CPU s for the whole start: redis {med['redis'][1]:.2f}, tandem {med['tandem'][1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
