#!/usr/bin/env python3
"""What a Prometheus scrape of /metrics costs on a big server, and whether
it shows in a client's tail latency.

Starts `tandem server` with --metrics-port, fills --dbs databases with
about --keys keys each (redis-benchmark SETs), resizes each to --shards
shards (DEBUG RESIZE; enough keys a shard that the resize policy keeps
them), then:

1. times --scrapes scrapes of /metrics (wall time from the request to the
   last byte, and the server's CPU time for them, from /proc);
2. runs the probe (`tandem bench net --workload probe`: one GET a
   millisecond, each round trip timed) for --seconds per round, with and
   without a scraper (curl) fetching /metrics every --every seconds, alternating
   which goes first, --rounds rounds; reports each mode's p99 and p99.9
   medians.

Usage: scripts/bench_scrape.py --bin target/release/tandem [--dbs 16]
       [--shards 1024] [--keys 1400000] [--rounds 5] [--seconds 20]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(url):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    return time.perf_counter() - started, body


def probe(bin_, port, seconds):
    out = subprocess.run(
        [bin_, "bench", "net", "--port", str(port), "--workload", "probe",
         "--seconds", str(seconds), "--keyspace", "100000", "--json"],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/tandem")
    ap.add_argument("--dbs", type=int, default=16)
    ap.add_argument("--shards", type=int, default=1024)
    ap.add_argument("--keys", type=int, default=1_400_000)
    ap.add_argument("--scrapes", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--every", type=float, default=1.0)
    args = ap.parse_args()

    port, metrics = free_port(), free_port()
    data = tempfile.mkdtemp()
    server = subprocess.Popen(
        [args.bin, "server", "--port", str(port), "--metrics-port", str(metrics),
         "--dir", data, "--save", "", "--enable-debug-command", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if cli(port, "PING") == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        t0 = time.time()
        for db in range(args.dbs):
            # ~93% of the keyspace is hit by 2.7x its size in random SETs.
            subprocess.run(
                ["redis-benchmark", "-p", str(port), "--dbnum", str(db), "-t", "set",
                 "-n", str(int(args.keys * 2.7)), "-r", str(int(args.keys)), "-d", "8",
                 "-P", "32", "-c", "8", "-q"],
                stdout=subprocess.DEVNULL, check=True)
            cli(port, "DEBUG", "RESIZE", db, args.shards)
        info = cli(port, "INFO", "shards")
        shards = [int(l.split("shards=")[1].split(",")[0])
                  for l in info.splitlines() if l.startswith("db") and ":shards=" in l]
        keys = sum(int(l.split("keys=")[1].split(",")[0])
                   for l in info.splitlines() if l.startswith("db") and ":shards=" in l)
        print(f"filled {len(shards)} databases, {keys:,} keys, shards {sorted(set(shards))} in {time.time() - t0:.0f} s")
        url = f"http://127.0.0.1:{metrics}/metrics"
        times, cpu0 = [], cpu_seconds(server.pid)
        size = lines = 0
        for _ in range(args.scrapes):
            took, body = scrape(url)
            times.append(took * 1e3)
            size, lines = len(body), body.count(b"\n")
        cpu = (cpu_seconds(server.pid) - cpu0) / args.scrapes * 1e3
        times.sort()
        print(f"scrape of {size:,} bytes, {lines:,} lines: median {statistics.median(times):.1f} ms, "
              f"p90 {times[int(len(times) * 0.9)]:.1f} ms, max {times[-1]:.1f} ms; "
              f"server CPU {cpu:.1f} ms a scrape ({args.scrapes} scrapes)")

        results = {"scraping": [], "quiet": []}
        for r in range(args.rounds):
            order = ["scraping", "quiet"] if r % 2 == 0 else ["quiet", "scraping"]
            for mode in order:
                stop = threading.Event()
                scraper = None
                if mode == "scraping":
                    # curl, not urllib: the scraper shares the machine's
                    # cores with the server and the probe, and reading 3 MB
                    # in Python would cost them more than Prometheus would.
                    def loop():
                        while not stop.wait(args.every):
                            subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=False)
                    scraper = threading.Thread(target=loop)
                    scraper.start()
                rep = probe(args.bin, port, args.seconds)
                stop.set()
                if scraper:
                    scraper.join()
                results[mode].append(rep)
                print(f"round {r + 1} {mode:>8}: p50 {rep['p50_us']:.0f} µs  p99 {rep['p99_us']:.0f} µs  "
                      f"p99.9 {rep['p999_us']:.0f} µs  max {rep['max_us']:.0f} µs  ({rep['requests']} GETs)")
        for mode, reps in results.items():
            med = lambda k: statistics.median(r[k] for r in reps)
            print(f"{mode:>8}: median p99 {med('p99_us'):.0f} µs, p99.9 {med('p999_us'):.0f} µs, "
                  f"max {med('max_us'):.0f} µs over {len(reps)} rounds of {args.seconds} s")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
