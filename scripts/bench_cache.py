#!/usr/bin/env python3
"""Cache benchmarks against running servers: hit ratio, and RSS under churn.

hitratio: a look-aside cache workload (GET; on a miss, SET) over a key
population with Zipf-distributed popularity, optionally polluted by one-off
scans, at cache sizes that are fractions of the population's memory. Each
server is given the same data budget: maxmemory = its own used_memory when
empty + fraction x the population's bytes as Redis holds them (measured
first, on the Redis server, by loading every key). Keys are popular in a
random order (rank r is key:perm[r], as YCSB hashes its keys), so
popularity does not follow key order. Each key's value has its own size,
from half to one and a half times --value (fixed per key), so that neither
server's allocator size classes happen to suit one size. Servers
alternate per cell.

probe: with the cache full and every SET evicting (redis-benchmark -t set
-P 16 -c 50 over a keyspace far bigger than the cache), what one other
client sees: `tandem bench net --workload probe` (one GET a millisecond,
each round trip timed). Servers alternate, A B then B A; medians.

rss: writes 10x maxmemory of values from 16 bytes to 16 KiB (sizes
log-uniform) with allkeys-lru, then reports RSS / maxmemory and RSS minus
the empty server's RSS over maxmemory.

Usage:
  bench_cache.py hitratio --server tandem 7001 --server redis 6390 \\
      [--keys 200000] [--value 1000] [--ops 1000000] [--policy allkeys-lru]
  bench_cache.py probe --server tandem 7001 --server redis 6390 [--rounds 5]
      [--maxmemory 104857600] [--tandem-bin target/release/tandem]
  bench_cache.py rss --server tandem 7001 --server redis 6390 [--maxmemory 104857600]
"""

import argparse
import bisect
import itertools
import json
import os
import random
import socket
import sys
import time
import zlib


class Conn:
    def __init__(self, port, host="127.0.0.1"):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, cmds):
        out = []
        for parts in cmds:
            out.append(b"*%d\r\n" % len(parts))
            for p in parts:
                if isinstance(p, str):
                    p = p.encode()
                out.append(b"$%d\r\n%s\r\n" % (len(p), p))
        self.s.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _n(self, n):
        while len(self.buf) < n + 2:
            d = self.s.recv(1 << 20)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        t = line[:1]
        if t in (b"+", b"-"):
            return line.decode()
        if t == b":":
            return int(line[1:])
        if t == b"$":
            n = int(line[1:])
            return None if n < 0 else self._n(n)
        if t == b"*":
            n = int(line[1:])
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError(line)

    def call(self, *parts):
        self.send([parts])
        return self.reply()


def info(c, section):
    text = c.call("INFO", section).decode()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def used(c):
    return int(info(c, "memory")["used_memory"])


def rss_of(port):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
        except OSError:
            continue
        if (b"tandem" in cmd or b"redis-server" in cmd) and str(port).encode() in cmd:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    return None


def zipf_cdf(n, skew):
    weights = [1.0 / (r ** skew) for r in range(1, n + 1)]
    return list(itertools.accumulate(weights))


def keys_for(n, seed):
    perm = list(range(n))
    random.Random(seed).shuffle(perm)
    return [f"key:{p}" for p in perm]


class Values:
    """Each key's value: --value/2 to 3*--value/2 bytes, fixed per key."""

    def __init__(self, size):
        self.size = size
        self.base = b"v" * (2 * size)

    def __call__(self, key):
        n = self.size // 2 + zlib.crc32(key.encode()) % (self.size + 1)
        return self.base[:n]


def load_all(c, names, value):
    for i in range(0, len(names), 500):
        batch = names[i:i + 500]
        c.send([("SET", k, value(k)) for k in batch])
        for _ in batch:
            c.reply()


def run_cell(c, stream, value, warm, batch=64):
    hits = misses = 0
    for i in range(0, len(stream), batch):
        chunk = stream[i:i + batch]
        c.send([("GET", k) for k in chunk])
        got = [c.reply() for _ in chunk]
        missed = [k for k, v in zip(chunk, got) if v is None]
        if missed:
            c.send([("SET", k, value(k)) for k in missed])
            for _ in missed:
                r = c.reply()
                if isinstance(r, str) and r.startswith("-"):
                    raise RuntimeError(r)
        if i >= warm:
            # One-off scan keys count as requests too, as a cache sees them.
            hits += len(chunk) - len(missed)
            misses += len(missed)
    return hits / max(1, hits + misses)


def stream_for(workload, names, ops, seed):
    rng = random.Random(seed)
    skew = {"zipf0.99": 0.99, "zipf1.2": 1.2, "zipf0.99+scan": 0.99}[workload]
    cdf = zipf_cdf(len(names), skew)
    picks = rng.choices(names, cum_weights=cdf, k=ops)
    if not workload.endswith("+scan"):
        return picks
    # Every 10,000 requests, a scan of 2,000 keys never asked for again.
    out, scan = [], 0
    for i, k in enumerate(picks):
        out.append(k)
        if i % 10_000 == 9_999:
            out.extend(f"scan:{scan}:{j}" for j in range(2_000))
            scan += 1
    return out


def hitratio(args):
    servers = [(name, int(port)) for name, port in args.server]
    conns = {name: Conn(port) for name, port in servers}
    names = keys_for(args.keys, 1)
    value = Values(args.value)
    # The population's bytes, as Redis holds them (or the first server).
    ref = "redis" if "redis" in conns else servers[0][0]
    c = conns[ref]
    c.call("FLUSHALL")
    c.call("CONFIG", "SET", "maxmemory", "0")
    empty = used(c)
    load_all(c, names, value)
    full = used(c) - empty
    c.call("FLUSHALL")
    print(f"population: {args.keys} keys of {args.value} bytes = {full} bytes in {ref}",
          file=sys.stderr)
    results = []
    for workload in args.workloads.split(","):
        stream = stream_for(workload, names, args.ops, 7)
        warm = len(stream) * 3 // 10
        for frac in [float(f) for f in args.sizes.split(",")]:
            order = servers if len(results) % 2 == 0 else list(reversed(servers))
            row = {"workload": workload, "size": frac}
            for name, _ in order:
                c = conns[name]
                c.call("CONFIG", "SET", "maxmemory", "0")
                c.call("FLUSHALL")
                time.sleep(0.2)
                budget = used(c) + int(frac * full)
                c.call("CONFIG", "SET", "maxmemory-policy", args.policy.get(name, args.policy["*"]))
                c.call("CONFIG", "SET", "maxmemory", str(budget))
                t0 = time.time()
                ratio = run_cell(c, stream, value, warm)
                keys = c.call("DBSIZE")
                row[name] = ratio
                row[name + "_keys"] = keys
                print(f"{workload} {frac:.0%} {name}: hit ratio {ratio:.4f} "
                      f"({keys} keys held, {time.time() - t0:.1f} s)", file=sys.stderr)
            results.append(row)
    for name, _ in servers:
        conns[name].call("CONFIG", "SET", "maxmemory", "0")
        conns[name].call("FLUSHALL")
    names_ = [n for n, _ in servers]
    print(f"| workload | cache | " + " | ".join(f"{n} hit ratio | {n} keys" for n in names_) + " |")
    print("|---|---:|" + "---:|---:|" * len(names_))
    for r in results:
        cells = " | ".join(f"{r[n]:.4f} | {r[n + '_keys']:,}" for n in names_)
        print(f"| {r['workload']} | {r['size']:.0%} | {cells} |")
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


def rss(args):
    servers = [(name, int(port)) for name, port in args.server]
    sizes_rng = random.Random(3)
    maxmemory = args.maxmemory
    results = {}
    for name, port in servers:
        c = Conn(port)
        c.call("CONFIG", "SET", "maxmemory", "0")
        c.call("FLUSHALL")
        time.sleep(0.5)
        empty_rss = rss_of(port)
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.call("CONFIG", "SET", "maxmemory", str(maxmemory))
        written = 0
        i = 0
        rng = random.Random(5)
        while written < 10 * maxmemory:
            batch = []
            for _ in range(100):
                size = int(16 * (1024 ** rng.random()))  # 16 B .. 16 KiB, log-uniform
                batch.append(("SET", f"k:{i}", b"x" * size))
                written += size
                i += 1
            c.send(batch)
            for _ in batch:
                c.reply()
        time.sleep(0.5)
        r = rss_of(port)
        m = info(c, "memory")
        results[name] = {
            "maxmemory": maxmemory,
            "written": written,
            "keys_written": i,
            "keys_held": c.call("DBSIZE"),
            "used_memory": int(m["used_memory"]),
            "rss": r,
            "empty_rss": empty_rss,
            "rss_over_max": r / maxmemory,
            "rss_less_empty_over_max": (r - empty_rss) / maxmemory,
        }
        print(name, json.dumps(results[name]), file=sys.stderr)
        c.call("CONFIG", "SET", "maxmemory", "0")
        c.call("FLUSHALL")
    print("| server | maxmemory | written | keys held | used_memory | RSS | empty RSS | RSS / maxmemory | (RSS - empty) / maxmemory |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['maxmemory']:,} | {r['written']:,} | {r['keys_held']:,} | "
              f"{r['used_memory']:,} | {r['rss']:,} | {r['empty_rss']:,} | "
              f"{r['rss_over_max']:.3f} | {r['rss_less_empty_over_max']:.3f} |")
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


def probe(args):
    import statistics
    import subprocess
    servers = [(name, int(port)) for name, port in args.server]
    for name, port in servers:
        c = Conn(port)
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.call("CONFIG", "SET", "maxmemory", str(args.maxmemory))
        # Fill past the bound: from here on every SET evicts.
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "2000000",
                        "-r", "10000000", "-d", "100", "-P", "16", "-q"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    got = {name: [] for name, _ in servers}
    for r in range(args.rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for name, port in order:
            p = subprocess.Popen([args.tandem_bin, "bench", "net", "--workload", "probe",
                                  "--port", str(port), "--keyspace", "1000",
                                  "--interval-us", "1000", "--seconds", "600",
                                  "--until-stdin-closes", "--json"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
            t0 = time.time()
            subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "2000000",
                            "-r", "10000000", "-d", "100", "-P", "16", "-c", "50", "-q"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            rps = 2_000_000 / (time.time() - t0)
            out, err = p.communicate(timeout=120)
            j = json.loads(out.strip().splitlines()[-1])
            row = (rps, j["p99_us"] / 1e3, j["p999_us"] / 1e3, j["max_us"] / 1e3)
            got[name].append(row)
            print(f"round {r + 1} {name}: SET {rps:,.0f}/s, probe p99 {row[1]:.2f} "
                  f"p99.9 {row[2]:.2f} max {row[3]:.2f} ms", file=sys.stderr)
    print("| server | SET ops/s (evicting) | probe p99 ms | probe p99.9 ms | probe max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in got.items():
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"| {name} | {med[0]:,.0f} | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.2f} |")
    for name, port in servers:
        Conn(port).call("CONFIG", "SET", "maxmemory", "0")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    h = sub.add_parser("hitratio")
    h.add_argument("--server", nargs=2, action="append", metavar=("NAME", "PORT"), required=True)
    h.add_argument("--keys", type=int, default=200_000)
    h.add_argument("--value", type=int, default=1000)
    h.add_argument("--ops", type=int, default=1_000_000)
    h.add_argument("--sizes", default="0.01,0.1,0.5")
    h.add_argument("--workloads", default="zipf0.99,zipf1.2,zipf0.99+scan")
    h.add_argument("--policy", default="allkeys-lru",
                   help="one policy, or NAME=POLICY pairs comma-separated (e.g. tandem=allkeys-lfu,redis=allkeys-lru)")
    h.add_argument("--json")
    r = sub.add_parser("rss")
    r.add_argument("--server", nargs=2, action="append", metavar=("NAME", "PORT"), required=True)
    r.add_argument("--maxmemory", type=int, default=100 << 20)
    r.add_argument("--json")
    q = sub.add_parser("probe")
    q.add_argument("--server", nargs=2, action="append", metavar=("NAME", "PORT"), required=True)
    q.add_argument("--maxmemory", type=int, default=100 << 20)
    q.add_argument("--rounds", type=int, default=5)
    q.add_argument("--tandem-bin", default="target/release/tandem")
    args = p.parse_args()
    if args.mode == "probe":
        return probe(args)
    if args.mode == "hitratio":
        if "=" in args.policy:
            args.policy = dict(kv.split("=") for kv in args.policy.split(","))
            args.policy.setdefault("*", "allkeys-lru")
        else:
            args.policy = {"*": args.policy}
        hitratio(args)
    else:
        rss(args)


if __name__ == "__main__":
    main()
