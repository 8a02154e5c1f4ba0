#!/usr/bin/env python3
"""The live page (/ on the metrics port) in headless Chromium, against a
real server under load: the page must show the shard count the server
reports, and show the new count after a forced resize (DEBUG RESIZE).
With --screenshot PATH it also saves a picture of the page, for a person
to look at. CI runs it (.ci/run); it installs Chromium (Debian package
`chromium`) and redis-py when missing.

Usage: scripts/live_page.py [--bin target/debug/tandem] [--screenshot page.png]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def as_root(cmd):
    if os.geteuid() != 0:
        cmd = ["sudo"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def ensure_tools():
    if not shutil.which("chromium"):
        as_root(["apt-get", "update", "-qq"])
        as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"])
    try:
        import redis  # noqa: F401
    except ImportError:
        pip = [sys.executable, "-m", "pip", "install", "-q", "redis"]
        if subprocess.run(pip).returncode != 0:
            subprocess.run(pip + ["--break-system-packages"], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(url, *extra):
    """Loads `url` headless; Chromium's stdout. Virtual time runs the
    page's timers (it reads /metrics once a second) for 5 s without
    waiting for them."""
    cmd = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--hide-scrollbars", "--window-size=1100,700",
        "--virtual-time-budget=5000", *extra, url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def page_shards(url):
    dom = chromium(url, "--dump-dom")
    found = re.search(r'id="shard-count" data-shards="(\d+)"', dom)
    if not found:
        raise SystemExit("the page shows no shard count:\n" + dom[:3000])
    cells = re.search(r'id="heatmap"[^>]*data-cells="(\d+)"', dom)
    return int(found.group(1)), int(cells.group(1)) if cells else None


def server_shards(r):
    return int(r.info("shards")["db0"]["shards"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/tandem")
    ap.add_argument("--screenshot", help="also save a picture of the page here")
    args = ap.parse_args()
    ensure_tools()
    import redis

    port, metrics = free_port(), free_port()
    data = tempfile.mkdtemp()
    server = subprocess.Popen(
        [args.bin, "server", "--port", str(port), "--metrics-port", str(metrics),
         "--dir", data, "--save", "", "--enable-debug-command", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    load = None
    try:
        r = redis.Redis(port=port, socket_timeout=30)
        for _ in range(200):
            try:
                if r.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        # 80,000 keys, then load that stays within them: at 64 shards
        # that is 1,250 keys a shard, which the resize policy neither
        # grows (over 65,536) nor shrinks (under 1,024), so the shard
        # count changes only when this script resizes.
        for start in range(0, KEYS, 1000):
            r.mset({f"key:{i}": "v" for i in range(start, start + 1000)})
        load = subprocess.Popen(
            [sys.executable, "-c", LOAD, str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{metrics}/"
        before = server_shards(r)
        shown, cells = page_shards(url)
        if shown != before or cells != before:
            raise SystemExit(f"the page shows {shown} shards ({cells} cells), the server has {before}")
        target = 64 if before != 64 else 32
        if KEYS // target < 1024:
            raise SystemExit(f"{before} shards: a resize to {target} would shrink back")
        r.execute_command("DEBUG", "RESIZE", 0, target)
        after = server_shards(r)
        if after != target:
            raise SystemExit(f"DEBUG RESIZE to {target} left {after} shards")
        shown, cells = page_shards(url)
        if shown != target or cells != target:
            raise SystemExit(f"after the resize the page shows {shown} shards ({cells} cells), the server has {target}")
        if args.screenshot:
            chromium(url, f"--screenshot={os.path.abspath(args.screenshot)}")
            print(f"screenshot: {args.screenshot}")
        print(f"live page: showed {before} shards, then {target} after DEBUG RESIZE, under load")
    finally:
        if load:
            load.kill()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


KEYS = 80_000

# The load: SETs and GETs over the same keys, pipelined, until killed.
LOAD = """
import random, sys, redis
r = redis.Redis(port=int(sys.argv[1]))
while True:
    p = r.pipeline(transaction=False)
    for _ in range(100):
        k = f"key:{random.randrange(80000)}"
        p.set(k, "v") if random.random() < 0.5 else p.get(k)
    p.execute()
"""

if __name__ == "__main__":
    main()
