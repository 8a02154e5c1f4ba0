#!/usr/bin/env python3
"""Side-by-side benchmark runs with medians, for a noisy shared machine.

Runs each variant in turn (A B A B ...) for --rounds rounds and prints the
median of every numeric field of the `--json` report, with the ratio of
each variant to the first.

  scripts/ab.py --rounds 5 -- 'tandem bench engine --workload write --threads 64 --memtable {sharded,single-lock}'

A `{a,b}` group in the command expands to one variant per alternative (one
group at most). `--bin A --bin B` instead runs the same command with
different binaries: the command's first word is replaced.
"""
import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys


def variants(cmd, bins):
    if bins:
        words = shlex.split(cmd)
        return [(b, [b] + words[1:]) for b in bins]
    m = re.search(r"\{([^{}]*,[^{}]*)\}", cmd)
    if not m:
        return [(cmd, shlex.split(cmd))]
    out = []
    for alt in m.group(1).split(","):
        c = cmd[: m.start()] + alt + cmd[m.end():]
        out.append((alt, shlex.split(c)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("--fields", default="ops_per_sec,p50_ns,p99_ns,p999_ns,max_ns,bytes_per_key")
    ap.add_argument("--all", action="store_true", help="also print every run's values")
    ap.add_argument("cmd")
    args = ap.parse_args()
    vs = variants(args.cmd, args.bin)
    runs = {name: [] for name, _ in vs}
    for _ in range(args.rounds):
        for name, argv in vs:
            if "--json" not in argv:
                argv = argv + ["--json"]
            res = subprocess.run(argv, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
    fields = [f for f in args.fields.split(",") if any(f in r for r in runs[vs[0][0]])]
    print(f"command: {args.cmd}")
    print(f"medians of {args.rounds} alternating rounds")
    header = "| variant | " + " | ".join(fields) + " |"
    print(header)
    print("|" + "---|" * (len(fields) + 1))
    base = {f: statistics.median(r[f] for r in runs[vs[0][0]]) for f in fields}
    for name, _ in vs:
        cells = []
        for f in fields:
            med = statistics.median(r[f] for r in runs[name])
            ratio = f" ({med / base[f]:.2f}x)" if base[f] and name != vs[0][0] else ""
            cells.append(f"{med:,.1f}{ratio}" if isinstance(med, float) and med < 1000 else f"{med:,.0f}{ratio}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.all:
        for name, _ in vs:
            for f in fields:
                vals = ", ".join(f"{r[f]:.3g}" for r in runs[name])
                print(f"{name} {f}: {vals}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
