#!/usr/bin/env python3
"""Crash loop: kill -9 a durable Tandem in the middle of a concurrent write
load, restart it on the same directory, and check that every acknowledged
write is there with its last acknowledged value, and that nothing never
written appears. Repeats for --cycles cycles on one growing data set.

Writers: --writers threads, each with its own connection and its own keys
(w<t>:<k>), sending SET (pipelined in small batches) and, now and then,
INCR on a counter key of its own, RPUSH and LPOP on a list of its own
(w<t>:list, logged as edits naming the list's change count), and HSET/HDEL,
SADD/SREM and ZADD/ZREM on a hash, a set and a sorted set of its own, each
filled with 5,000 elements on its first cycle, so that a snapshot copies
them a step at a time (`collection::stepped`): after a restart each must be
the acknowledged one with some prefix of the lost batch's operations on it
applied, element for element. A write is acknowledged when its reply
arrives; the writes in the batch that was in flight when the server died
may or may not have landed, so for those keys either the acknowledged
value or an in-flight one is accepted. Now and then a BGREWRITEAOF runs
during the load, so crashes also land in the middle of snapshots.

Under `always`, a kill -9 can lose nothing acknowledged; under `everysec`
neither can it (the page cache survives a killed process; only a power
cut may lose the last second). Both are checked here.

Usage: scripts/crash_loop.py [--cycles 100] [--fsync always|everysec]
       [--bin target/release/tandem] [--writers 4] [--seed N]
Exit status 0 when every cycle checked out; 1 and a description otherwise.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(bin_path, port, data, fsync, log):
    proc = subprocess.Popen(
        [bin_path, "server", "--port", str(port), "--dir", data,
         "--appendonly", "yes", "--appendfsync", fsync, "--save", ""],
        stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_timeout=10)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} at start-up")
        try:
            # Answers once the data has loaded (-LOADING before that).
            client.dbsize()
            return proc
        except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
            time.sleep(0.02)
    raise RuntimeError("server did not come up")


class Writer(threading.Thread):
    """One client writing its own keys; records what was acknowledged."""

    def __init__(self, tid, port, model, rng_seed, keys):
        super().__init__(daemon=True)
        self.tid, self.port, self.model = tid, port, model
        self.rng = random.Random(rng_seed)
        self.keys = keys
        # key -> set of values sent but not acknowledged when the server died
        self.in_flight = {}
        # The lost batch's list operations, in order.
        self.in_flight_list = []
        self.list_key = f"w{tid}:list"
        model.setdefault("__list", [])
        # The hash, set and sorted set: key -> acknowledged contents, and
        # the lost batch's operations on them, in order.
        self.coll_keys = {kind: f"w{tid}:{kind}" for kind in ("hash", "set", "zset")}
        model.setdefault("__coll", {kind: {} for kind in self.coll_keys})
        self.in_flight_coll = []
        self.seq = model.get("seq", 0)

    def fill(self, client):
        """Makes the hash, set and sorted set big (5,000 elements) once."""
        coll = self.model["__coll"]
        if coll["hash"]:
            return
        pipe = client.pipeline(transaction=False)
        pipe.hset(self.coll_keys["hash"], mapping=filled("hash"))
        pipe.sadd(self.coll_keys["set"], *filled("set"))
        pipe.zadd(self.coll_keys["zset"], {m: int(s) for m, s in filled("zset").items()})
        pipe.execute()
        for kind in self.coll_keys:
            coll[kind] = filled(kind)

    def run(self):
        client = redis.Redis(port=self.port, socket_timeout=10)
        try:
            self.fill(client)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            # Killed while filling: each of the three may or may not have
            # landed.
            self.model["__unsure_fill"] = True
            return
        while True:
            batch = []
            for _ in range(self.rng.randint(1, 16)):
                self.seq += 1
                roll = self.rng.random()
                if roll < 0.1:
                    batch.append(("incr", f"w{self.tid}:counter", None))
                elif roll < 0.25:
                    batch.append(("rpush", self.list_key, f"{self.seq}"))
                elif roll < 0.3:
                    batch.append(("lpop", self.list_key, None))
                elif roll < 0.45:
                    kind = self.rng.choice(("hash", "set", "zset"))
                    remove = self.rng.random() < 0.4
                    member = f"{'f' if kind == 'hash' else 'm'}{self.rng.randrange(7000)}"
                    batch.append((("del:" if remove else "add:") + kind, member, f"{self.seq}"))
                else:
                    key = f"w{self.tid}:{self.rng.randrange(self.keys)}"
                    batch.append(("set", key, f"{self.tid}:{self.seq}"))
            pipe = client.pipeline(transaction=False)
            for op, key, value in batch:
                if op == "set":
                    pipe.set(key, value)
                elif op == "rpush":
                    pipe.rpush(key, value)
                elif op == "lpop":
                    pipe.lpop(key)
                elif op == "add:hash":
                    pipe.hset(self.coll_keys["hash"], key, value)
                elif op == "del:hash":
                    pipe.hdel(self.coll_keys["hash"], key)
                elif op == "add:set":
                    pipe.sadd(self.coll_keys["set"], key)
                elif op == "del:set":
                    pipe.srem(self.coll_keys["set"], key)
                elif op == "add:zset":
                    pipe.zadd(self.coll_keys["zset"], {key: int(value)})
                elif op == "del:zset":
                    pipe.zrem(self.coll_keys["zset"], key)
                else:
                    pipe.incr(key)
            try:
                replies = pipe.execute()
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                # Died mid-batch: any of these may have landed.
                for op, key, value in batch:
                    if op == "set":
                        self.in_flight.setdefault(key, set()).add(value)
                    elif op in ("rpush", "lpop"):
                        self.in_flight_list.append((op, value))
                    elif ":" in op:
                        self.in_flight_coll.append((op, key, value))
                    else:
                        self.in_flight.setdefault(key, set()).add("incr")
                self.model["seq"] = self.seq
                return
            for (op, key, value), reply in zip(batch, replies):
                if op == "set":
                    self.model[key] = value
                elif op == "rpush":
                    self.model["__list"].append(value)
                elif op == "lpop":
                    if self.model["__list"]:
                        self.model["__list"].pop(0)
                elif ":" in op:
                    apply_coll(self.model["__coll"], op, key, value)
                else:
                    self.model[key] = str(reply)


def filled(kind):
    """A collection's first contents, as the model keeps them."""
    if kind == "hash":
        return {f"f{i}": f"v{i}" for i in range(5000)}
    if kind == "set":
        return {f"m{i}": True for i in range(5000)}
    return {f"m{i}": str(i) for i in range(5000)}


def apply_coll(coll, op, member, value):
    """One HSET/HDEL/SADD/SREM/ZADD/ZREM applied to the model."""
    action, kind = op.split(":")
    if action == "del":
        coll[kind].pop(member, None)
    else:
        coll[kind][member] = {"hash": value, "set": True, "zset": value}[kind]


def read_coll(client, kind, key):
    """What the server holds at a collection key, as the model keeps it."""
    if kind == "hash":
        return client.hgetall(key)
    if kind == "set":
        return {m: True for m in client.smembers(key)}
    return {m: str(int(s)) for m, s in client.zrange(key, 0, -1, withscores=True)}


def check(port, models, writers):
    client = redis.Redis(port=port, socket_timeout=30, decode_responses=True)
    problems = []
    expected_keys = set()
    for tid, model in enumerate(models):
        w = writers[tid]
        # The list: the acknowledged one, then a prefix of the lost batch.
        candidates = [list(model["__list"])]
        for op, value in w.in_flight_list:
            nxt = list(candidates[-1])
            if op == "rpush":
                nxt.append(value)
            elif nxt:
                nxt.pop(0)
            candidates.append(nxt)
        got_list = client.lrange(w.list_key, 0, -1)
        if got_list not in candidates:
            problems.append(f"{w.list_key}: got {len(got_list)} elements "
                            f"({got_list[:3]}..{got_list[-3:]}), acknowledged "
                            f"{len(model['__list'])} ({model['__list'][:3]}..{model['__list'][-3:]}), "
                            f"{len(w.in_flight_list)} list operations in flight")
        else:
            model["__list"] = got_list
            if got_list:
                expected_keys.add(w.list_key)
        # The hash, set and sorted set: each the acknowledged one, then a
        # prefix of the lost batch's operations on it.
        unsure = model.pop("__unsure_fill", False)
        for kind, key in w.coll_keys.items():
            got = read_coll(client, kind, key)
            state = dict(model["__coll"][kind])
            candidates = [dict(state)]
            for op, member, value in w.in_flight_coll:
                if op.endswith(":" + kind):
                    apply_coll({kind: state}, op, member, value)
                    candidates.append(dict(state))
            if unsure and not model["__coll"][kind]:
                candidates.append(filled(kind))
            if got not in candidates:
                missing = [m for m in candidates[0] if m not in got][:3]
                extra = [m for m in got if m not in candidates[0]][:3]
                problems.append(f"{key}: {len(got)} elements, acknowledged "
                                f"{len(candidates[0])}; missing {missing}, extra {extra}, "
                                f"{len(candidates) - 1} operations in flight")
            else:
                model["__coll"][kind] = got
                if got:
                    expected_keys.add(key)
        for key, value in model.items():
            if key in ("seq", "__list", "__coll"):
                continue
            expected_keys.add(key)
            got = client.get(key)
            ok = {value}
            maybe = w.in_flight.get(key, set())
            if key.endswith(":counter"):
                # An INCR in flight may have landed (one or several).
                if "incr" in maybe and got is not None and int(got) >= int(value):
                    ok.add(got)
            else:
                ok |= maybe
            if got not in ok:
                problems.append(f"{key}: got {got!r}, acknowledged {value!r}, in flight {sorted(maybe)}")
            else:
                model[key] = got
        # Keys written only by the lost batch may exist, with a sent value.
        for key, values in w.in_flight.items():
            if key in model:
                continue
            got = client.get(key)
            if got is not None:
                if key.endswith(":counter") or got in values:
                    model[key] = got
                    expected_keys.add(key)
                else:
                    problems.append(f"{key}: got {got!r}, never sent")
    size = client.dbsize()
    if size != len(expected_keys):
        problems.append(f"DBSIZE {size}, expected {len(expected_keys)} keys")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--fsync", default="always", choices=["always", "everysec"])
    ap.add_argument("--bin", default="target/release/tandem")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--keys", type=int, default=2000, help="keys per writer")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data = tempfile.mkdtemp(prefix="tandem-crash-")
    log = open(os.path.join(data, "server.log"), "ab")
    models = [dict() for _ in range(args.writers)]
    print(f"crash loop: {args.cycles} cycles, appendfsync {args.fsync}, "
          f"{args.writers} writers, seed {args.seed}, data in {data}", flush=True)
    started = time.time()
    try:
        for cycle in range(args.cycles):
            port = free_port()
            t0 = time.time()
            proc = start(args.bin, port, data, args.fsync, log)
            load = time.time() - t0
            if cycle > 0:
                problems = check(port, models, writers)
                if problems:
                    print(f"cycle {cycle}: {len(problems)} problems after restart:")
                    for p in problems[:20]:
                        print("  " + p)
                    return 1
            writers = [Writer(t, port, models[t], rng.random(), args.keys)
                       for t in range(args.writers)]
            for w in writers:
                w.start()
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0.0, 0.1))
                try:
                    redis.Redis(port=port, socket_timeout=10).bgrewriteaof()
                except redis.RedisError:
                    pass
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            for w in writers:
                w.join(30)
            acked = sum(len(m) - 3 for m in models if m)
            print(f"cycle {cycle + 1}: killed; {acked} keys acknowledged so far, "
                  f"restart {load:.2f} s", flush=True)
        # The last kill is checked by one more start.
        port = free_port()
        proc = start(args.bin, port, data, args.fsync, log)
        problems = check(port, models, writers)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if problems:
            print(f"final check: {len(problems)} problems:")
            for p in problems[:20]:
                print("  " + p)
            return 1
        print(f"crash loop: {args.cycles} cycles passed in {time.time() - started:.0f} s")
        return 0
    finally:
        log.close()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
