#!/usr/bin/env python3
"""Durability benchmarks, Tandem against Redis 7.0 on the same disk with the
same settings (issue 13's targets; results go into docs/BENCHMARKS.md).

  write     fresh server per run, redis-benchmark SET (-c 50 -d 64) at
            pipeline 1 and 16; ops/s, p99, server CPU per request, and for
            Tandem writes per fsync (INFO's aof_records / aof_fsyncs).
            Servers alternate by round; medians and per-round ratios.
  snapshot  prefill N keys (16-byte keys, 64-byte values), run SET flat out
            (P16) with a probe client (one GET a millisecond), then BGSAVE
            during the load: steady RSS against the peak while the snapshot
            runs (for Redis, parent + fork child, both as PSS), probe p99.9
            steady against during, the snapshot's time and file size.
  collections
            fresh server per round, appendonly yes: redis-benchmark's
            collection tests, each growing one key (LPUSH mylist, HSET
            myhash, SADD myset, ZADD myzset, then LPOP), one after the
            other on the same server; per test ops/s, p99, server CPU per
            request, and the log's bytes per request (the data directory's
            growth). What logging a change in place costs as the collection
            grows: its edits, or (before them) the whole collection.
  recover   prefill N keys once per server and mode, then restart the server
            on its files --rounds times, alternating servers, timing start to
            the first PONG: `snapshot` (appendonly no, SAVE, restart) and
            `log` (appendonly yes from the start, no snapshot).

Every server runs in a fresh directory under --dir (default /var/tmp, the
root disk here), started from a command template with {port} and {dir}.

Usage:
  scripts/bench_durable.py write --rounds 5 --fsync always
  scripts/bench_durable.py write --fsync everysec --baseline-bin /tmp/old-tandem  (A/B)
  scripts/bench_durable.py snapshot --rounds 5 --keys 10000000
  scripts/bench_durable.py recover --rounds 5 --keys 10000000
  scripts/bench_durable.py collections --requests 10000 --baseline-bin /tmp/old-tandem
"""
import argparse
import csv
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_grow import command, run_phase, wait_ready  # noqa: E402
from bench_vs_redis import cpu_ticks, log, med, prefill  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")


def fail(msg):
    print(f"bench-durable: {msg}", file=sys.stderr)
    sys.exit(1)


def tandem_cmd(a, extra):
    return f"{a.tandem_bin} server --port {{port}} --dir {{dir}} --save '' {extra}"


def redis_cmd(extra):
    return f"redis-server --port {{port}} --dir {{dir}} --save '' --logfile {{dir}}/redis.log {extra}"


class Server:
    """A server process in its own directory."""

    def __init__(self, name, template, port, data_dir=None):
        self.name, self.port = name, port
        self.dir = data_dir or tempfile.mkdtemp(prefix=f"bench-{name}-", dir=ARGS.dir)
        argv = shlex.split(template.replace("{port}", str(port)).replace("{dir}", self.dir))
        self.log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)
        wait_ready(port, self.proc, deadline=600)
        self.ready_s = time.monotonic() - self.t0

    def info(self, section):
        text = command(self.port, "INFO", section).decode(errors="replace")
        out = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                k, _, v = line.partition(":")
                out[k] = v.strip()
        return out

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pss_kb(pid):
    """Proportional set size of pid and its children (a fork child shares
    pages with its parent: PSS counts each shared page once overall)."""
    total = 0
    pids = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                pids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- write


def write(a):
    servers = [("tandem", tandem_cmd(a, f"--appendonly yes --appendfsync {a.fsync}")),
               ("redis", redis_cmd(f"--appendonly yes --appendfsync {a.fsync}"))]
    if a.with_memory:
        servers.append(("tandem-mem", tandem_cmd(a, "--appendonly no")))
    if a.baseline_bin:
        base_cmd = tandem_cmd(a, f"--appendonly yes --appendfsync {a.fsync}")
        servers.append(("tandem-base", base_cmd.replace(a.tandem_bin, a.baseline_bin, 1)))
    pipelines = [int(p) for p in a.pipelines.split(",")]
    results = {}
    for rnd in range(a.rounds):
        order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
        for pipeline in pipelines:
            for name, template in order:
                srv = Server(name, template, free_port())
                r = run_phase(a, name, srv.port, srv.proc.pid, pipeline, a.requests)
                if name in ("tandem", "tandem-base"):
                    info = srv.info("persistence")
                    recs, syncs = int(info.get("aof_records", 0)), int(info.get("aof_fsyncs", 0))
                    calls = int(info.get("aof_writes", 0))
                    r["writes_per_fsync"] = recs / syncs if syncs and a.fsync == "always" else None
                    r["records_per_write"] = recs / calls if calls else None
                srv.kill()
                srv.remove()
                results.setdefault((name, pipeline), []).append(r)
                log(f"round {rnd + 1} P{pipeline} {name:10} {r['rps']:>10.0f} ops/s p99 "
                    f"{r['bench_p99_ms']:.3f} ms CPU {r['cpu_us_per_req']:.2f} µs/req"
                    + (f" writes/fsync {r['writes_per_fsync']:.1f}" if r.get("writes_per_fsync") else "")
                    + (f" records/write {r['records_per_write']:.1f}" if r.get("records_per_write") else ""))
    print(f"\n# write: appendfsync {a.fsync}, SET -c {a.clients} -d {a.data_size} "
          f"-r {a.keyspace} -n {a.requests}, {a.rounds} rounds (medians)")
    for pipeline in pipelines:
        base = results[("redis", pipeline)]
        for name, _ in servers:
            rs = results[(name, pipeline)]
            ratio = med([x["rps"] / y["rps"] for x, y in zip(rs, base)])
            wpf = [x["writes_per_fsync"] for x in rs if x.get("writes_per_fsync")]
            rpw = [x["records_per_write"] for x in rs if x.get("records_per_write")]
            print(f"P{pipeline:<3} {name:10} ops/s {med([x['rps'] for x in rs]):>10.0f} "
                  f"(×{ratio:.2f} Redis)  p99 {med([x['bench_p99_ms'] for x in rs]):.3f} ms  "
                  f"CPU {med([x['cpu_us_per_req'] for x in rs]):.2f} µs/req"
                  + (f"  writes/fsync {med(wpf):.1f}" if wpf else "")
                  + (f"  records/write {med(rpw):.1f}" if rpw else ""))
    print(json.dumps({f"{k[0]}:P{k[1]}": v for k, v in results.items()}, default=str)[:20000],
          file=open(os.path.join(a.dir, "bench_durable_write.json"), "w"))


# ---------------------------------------------------------------- collections


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if not f.endswith(".log"):
                total += os.path.getsize(os.path.join(root, f))
    return total


def collections(a):
    servers = [("tandem", tandem_cmd(a, f"--appendonly yes --appendfsync {a.fsync}")),
               ("redis", redis_cmd(f"--appendonly yes --appendfsync {a.fsync}"))]
    if a.baseline_bin:
        base_cmd = tandem_cmd(a, f"--appendonly yes --appendfsync {a.fsync}")
        servers.append(("tandem-base", base_cmd.replace(a.tandem_bin, a.baseline_bin, 1)))
    tests = a.tests.split(",")
    pipelines = [int(p) for p in a.pipelines.split(",")]
    results = {}
    for rnd in range(a.rounds):
        order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
        for pipeline in pipelines:
            for name, template in order:
                srv = Server(name, template, free_port())
                for test in tests:
                    bench = [a.redis_benchmark, "-h", "127.0.0.1", "-p", str(srv.port), "-t", test,
                             "-n", str(a.requests), "-c", str(a.clients), "-r", str(a.keyspace),
                             "-P", str(pipeline), "--csv"]
                    size0, cpu0 = dir_bytes(srv.dir), cpu_ticks(srv.proc.pid)
                    res = subprocess.run(bench, capture_output=True, text=True,
                                         stdin=subprocess.DEVNULL)
                    cpu1 = cpu_ticks(srv.proc.pid)
                    # The log reaches the file within a second (everysec).
                    time.sleep(1.2)
                    size1 = dir_bytes(srv.dir)
                    rows = [r for r in csv.reader(res.stdout.splitlines()) if r]
                    header = next((r for r in rows if r[0] == "test"), None)
                    body = [r for r in rows if header and r[0] != "test"]
                    if res.returncode != 0 or not header or len(body) != 1:
                        fail(f"{name}: `{shlex.join(bench)}`: {res.stderr.strip()} {res.stdout.strip()}")
                    row = dict(zip(header, body[0]))
                    r = {"rps": float(row["rps"]), "p99_ms": float(row["p99_latency_ms"]),
                         "cpu_us_per_req": (cpu1 - cpu0) / TICK / a.requests * 1e6,
                         "log_bytes_per_req": (size1 - size0) / a.requests}
                    results.setdefault((name, pipeline, test), []).append(r)
                    log(f"round {rnd + 1} P{pipeline} {name:11} {test:6} {r['rps']:>9.0f} ops/s "
                        f"p99 {r['p99_ms']:.3f} ms CPU {r['cpu_us_per_req']:.2f} µs/req "
                        f"log {r['log_bytes_per_req']:.0f} B/req")
                srv.kill()
                srv.remove()
    print(f"\n# collections: appendfsync {a.fsync}, -c {a.clients} -r {a.keyspace} "
          f"-n {a.requests}, {a.rounds} rounds (medians)")
    for pipeline in pipelines:
        for test in tests:
            base = results[("redis", pipeline, test)]
            for name, _ in servers:
                rs = results[(name, pipeline, test)]
                ratio = med([x["rps"] / y["rps"] for x, y in zip(rs, base)])
                print(f"P{pipeline:<3} {test:6} {name:11} ops/s {med([x['rps'] for x in rs]):>9.0f} "
                      f"(×{ratio:.2f} Redis)  p99 {med([x['p99_ms'] for x in rs]):.3f} ms  "
                      f"CPU {med([x['cpu_us_per_req'] for x in rs]):.2f} µs/req  "
                      f"log {med([x['log_bytes_per_req'] for x in rs]):.0f} B/req")


# ---------------------------------------------------------------- snapshot


def probe_window(a, port, seconds=None, until=None):
    """Runs the probe until `seconds` pass or `until()` returns true."""
    probe = [a.tandem_bin, "bench", "net", "--workload", "probe", "--port", str(port),
             "--keyspace", str(a.keys), "--interval-us", "1000", "--seconds", "3600",
             "--until-stdin-closes", "--json"]
    p = subprocess.Popen(probe, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while True:
        time.sleep(0.02)
        if seconds is not None and time.monotonic() - t0 >= seconds:
            break
        if until is not None and until():
            break
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        fail(f"probe failed: {err}")
    return json.loads(out.strip().splitlines()[-1]), time.monotonic() - t0


def snapshot(a):
    servers = [("tandem", tandem_cmd(a, "--appendonly no")), ("redis", redis_cmd("--appendonly no"))]
    servers = [s for s in servers if s[0] in a.servers.split(",")]
    results = {}
    for rnd in range(a.rounds):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for name, template in order:
            srv = Server(name, template, free_port())
            t = time.monotonic()
            prefill("127.0.0.1", srv.port, a.keys, a.data_size)
            log(f"{name}: prefilled {a.keys} keys in {time.monotonic() - t:.0f} s")
            load = subprocess.Popen(
                [a.redis_benchmark, "-p", str(srv.port), "-t", "set", "-n", "2000000000",
                 "-c", str(a.clients), "-r", str(a.keys), "-d", str(a.data_size), "-P", "16", "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples = []
            stop = threading.Event()

            def sampler():
                while not stop.is_set():
                    samples.append((time.monotonic(), pss_kb(srv.proc.pid)))
                    time.sleep(0.02)
            th = threading.Thread(target=sampler, daemon=True)
            time.sleep(2)  # the load reaches its pace
            th.start()
            steady_probe, _ = probe_window(a, srv.port, seconds=a.steady_seconds)
            t_snap = time.monotonic()
            cpu0 = cpu_ticks(srv.proc.pid)
            reply = command(srv.port, "BGSAVE")
            if not reply.startswith(b"+"):
                fail(f"{name}: BGSAVE: {reply!r}")

            def done():
                return srv.info("persistence").get("rdb_bgsave_in_progress") == "0"
            snap_probe, snap_s = probe_window(a, srv.port, until=done)
            stop.set()
            th.join()
            load.kill()
            load.wait()
            steady = [kb for t, kb in samples if t < t_snap]
            during = [kb for t, kb in samples if t >= t_snap]
            info = srv.info("persistence")
            size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(srv.dir)
                       for f in fs if f.endswith((".tdb", ".rdb")))
            r = {
                "steady_mb": med(steady) / 1024, "peak_mb": max(during or [0]) / 1024,
                "snapshot_s": snap_s, "file_mb": size / 1e6,
                "probe_steady_p999_ms": steady_probe["p999_us"] / 1e3,
                "probe_snap_p999_ms": snap_probe["p999_us"] / 1e3,
                "probe_steady_p99_ms": steady_probe["p99_us"] / 1e3,
                "probe_snap_p99_ms": snap_probe["p99_us"] / 1e3,
                "status": info.get("rdb_last_bgsave_status"),
                "cpu_s": (cpu_ticks(srv.proc.pid) - cpu0) / TICK,
            }
            r["peak_ratio"] = r["peak_mb"] / r["steady_mb"]
            r["probe_ratio"] = r["probe_snap_p999_ms"] / r["probe_steady_p999_ms"]
            srv.kill()
            srv.remove()
            results.setdefault(name, []).append(r)
            log(f"round {rnd + 1} {name}: " + json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
    print(f"\n# snapshot of {a.keys} keys under SET P16 -c {a.clients}, {a.rounds} rounds (medians)")
    for name, _ in servers:
        rs = results[name]
        print(f"{name:8} steady {med([x['steady_mb'] for x in rs]):.0f} MB, peak during the snapshot "
              f"{med([x['peak_mb'] for x in rs]):.0f} MB (×{med([x['peak_ratio'] for x in rs]):.3f}); "
              f"probe p99.9 steady {med([x['probe_steady_p999_ms'] for x in rs]):.2f} ms, during "
              f"{med([x['probe_snap_p999_ms'] for x in rs]):.2f} ms (×{med([x['probe_ratio'] for x in rs]):.2f}); "
              f"p99 {med([x['probe_steady_p99_ms'] for x in rs]):.2f} / {med([x['probe_snap_p99_ms'] for x in rs]):.2f} ms; "
              f"snapshot {med([x['snapshot_s'] for x in rs]):.1f} s, file {med([x['file_mb'] for x in rs]):.0f} MB")


# ---------------------------------------------------------------- recover


def recover(a):
    modes = {
        "snapshot": (tandem_cmd(a, "--appendonly no"), redis_cmd("--appendonly no")),
        "log": (tandem_cmd(a, "--appendonly yes --appendfsync everysec"),
                redis_cmd("--appendonly yes --appendfsync everysec --aof-use-rdb-preamble no "
                          "--auto-aof-rewrite-percentage 0")),
    }
    for mode in a.modes.split(","):
        tmpl = dict(zip(("tandem", "redis"), modes[mode]))
        dirs = {}
        sizes = {}
        for name in ("tandem", "redis"):
            srv = Server(name, tmpl[name], free_port())
            t = time.monotonic()
            prefill("127.0.0.1", srv.port, a.keys, a.data_size)
            log(f"{mode} {name}: prefilled {a.keys} keys in {time.monotonic() - t:.0f} s")
            if mode == "snapshot":
                reply = command(srv.port, "SAVE", timeout=600)
                if not reply.startswith(b"+OK"):
                    fail(f"{name}: SAVE: {reply!r}")
            else:
                time.sleep(2)  # everysec: let the last second reach the file
            srv.kill()
            dirs[name] = srv.dir
            sizes[name] = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(srv.dir)
                              for f in fs if f.endswith((".tdb", ".rdb", ".wal", ".aof")))
        times = {"tandem": [], "redis": []}
        for rnd in range(a.rounds):
            order = ("tandem", "redis") if rnd % 2 == 0 else ("redis", "tandem")
            for name in order:
                subprocess.run(["sync"])
                srv = Server(name, tmpl[name], free_port(), data_dir=dirs[name])
                keys = command(srv.port, "DBSIZE")
                if keys.strip() != b":%d" % a.keys:
                    fail(f"{name}: recovered {keys!r}, wanted {a.keys} keys")
                times[name].append(srv.ready_s)
                srv.kill()
                log(f"{mode} round {rnd + 1} {name}: ready in {srv.ready_s:.2f} s")
        ratio = med([r / t for t, r in zip(times["tandem"], times["redis"])])
        print(f"recover from {mode} ({a.keys} keys): Tandem {med(times['tandem']):.2f} s, "
              f"Redis {med(times['redis']):.2f} s (Redis/Tandem ×{ratio:.2f}); files "
              f"Tandem {sizes['tandem'] / 1e6:.0f} MB, Redis {sizes['redis'] / 1e6:.0f} MB")
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["write", "snapshot", "recover", "collections"])
    ap.add_argument("--tests", default="lpush,hset,sadd,zadd,lpop",
                    help="collections: redis-benchmark tests, in order, on one server")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fsync", default="always", choices=["always", "everysec", "no"])
    ap.add_argument("--with-memory", action="store_true",
                    help="write: also Tandem without persistence (the in-memory baseline)")
    ap.add_argument("--requests", type=int, default=400000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--keyspace", type=int, default=1000000)
    ap.add_argument("--keys", type=int, default=10000000)
    ap.add_argument("--data-size", type=int, default=64)
    ap.add_argument("--steady-seconds", type=float, default=5.0)
    ap.add_argument("--modes", default="snapshot,log")
    ap.add_argument("--servers", default="tandem,redis", help="snapshot: which servers to run")
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--tandem-bin", default=os.path.join(ROOT, "target/release/tandem"))
    ap.add_argument("--redis-benchmark", default="redis-benchmark")
    ap.add_argument("--baseline-bin", help="write: also run this Tandem build (A/B of two builds)")
    ap.add_argument("--pipelines", default="1,16", help="write: pipeline depths to run")
    ap.add_argument("--probe-interval-us", type=int, default=1000)
    a = ap.parse_args()
    ARGS = a
    log(f"bench-durable {a.mode}: {os.cpu_count()} cores, load {open('/proc/loadavg').read().split()[0]}, "
        f"{subprocess.run(['git', '-C', ROOT, 'describe', '--always', '--dirty'], capture_output=True, text=True).stdout.strip()}")
    {"write": write, "snapshot": snapshot, "recover": recover,
     "collections": collections}[a.mode](a)


if __name__ == "__main__":
    main()
