#!/usr/bin/env python3
"""Expiry-event lateness over the network, for any Redis-protocol server.

Sets `notify-keyspace-events Ex`, subscribes to `__keyevent@<db>__:expired`,
loads --background keys with long TTLs (one to two hours), then --probes
keys with PXAT deadlines spread evenly over --spread seconds, starting one
second later. Lateness is the arrival of each probe's event minus its
deadline; a probe whose event never came counts as infinitely late (its
quantile prints as null). Prints one JSON object: background, probes,
delivered_fraction, p50_ns, p99_ns, max_ns (the fields of `tandem bench
engine --workload expiry --json`).

  scripts/expiry-lateness.py --port 7777 --background 1000000 --probes 10000 --spread 10

Needs redis-py (`pip install redis`). Run it against Redis 7.0 started with
`--save "" --appendonly no`, and against `tandem server`.
"""
import argparse
import json
import random
import threading
import time

import redis


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--db", type=int, default=0)
    ap.add_argument("--background", type=int, default=1_000_000)
    ap.add_argument("--probes", type=int, default=10_000)
    ap.add_argument("--spread", type=float, default=10.0)
    ap.add_argument("--grace", type=float, default=20.0,
                    help="seconds to wait after the last deadline")
    a = ap.parse_args()
    r = redis.Redis(host=a.host, port=a.port, db=a.db)
    r.flushdb()
    r.config_set("notify-keyspace-events", "Ex")
    ps = r.pubsub()
    ps.subscribe(f"__keyevent@{a.db}__:expired")
    ps.get_message(timeout=1.0)  # the subscribe confirmation

    rnd = random.Random(7)
    pipe = r.pipeline(transaction=False)
    for i in range(a.background):
        pipe.set(f"bg:{i:012}", "v", px=3_600_000 + rnd.randrange(3_600_000))
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()

    start_ms = int(time.time() * 1000) + 1000
    spread_ms = int(a.spread * 1000)
    deadline = {f"probe:{i}".encode(): start_ms + i * spread_ms // a.probes
                for i in range(a.probes)}
    pipe = r.pipeline(transaction=False)
    for key, at in deadline.items():
        pipe.set(key, "v", pxat=at)
    pipe.execute()

    late = {}
    stop_at = (start_ms + spread_ms) / 1000 + a.grace
    while len(late) < a.probes and time.time() < stop_at:
        m = ps.get_message(timeout=0.1)
        if not m or m.get("type") != "message":
            continue
        now_ns = time.time_ns()
        key = m["data"]
        if key in deadline and key not in late:
            late[key] = now_ns - deadline[key] * 1_000_000

    # A probe whose event never came counts as infinitely late: quantiles
    # are over all probes, and one that falls on a missing event is null.
    vals = sorted(late.values()) + [None] * (a.probes - len(late))

    def q(p):
        return vals[min(len(vals) - 1, int(p * len(vals)))]

    print(json.dumps({
        "background": a.background,
        "probes": a.probes,
        "spread_s": a.spread,
        "delivered": len(late),
        "delivered_fraction": len(late) / a.probes,
        "p50_ns": q(0.5),
        "p99_ns": q(0.99),
        "max_ns": vals[-1],
    }))


if __name__ == "__main__":
    main()
