#!/usr/bin/env bash
# Expiry-event lateness over the network, Tandem against Redis 7.0, side by
# side: for each background size, ROUNDS rounds, alternating which server
# goes first, each run `scripts/expiry-lateness.py` (redis-py): background
# volatile keys with 1-2 h TTLs, then PROBES keys whose deadlines are spread
# over SPREAD seconds; lateness = event arrival - deadline. Prints one JSON
# line per run, then the medians per server and size.
#
# Usage: scripts/bench-expiry-network.sh [ROUNDS] [PROBES] [SPREAD] [SIZES...]
#   defaults: 3 1000 5 100000 1000000   (build target/release/tandem first)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}; PROBES=${2:-1000}; SPREAD=${3:-5}; shift $(( $# < 3 ? $# : 3 ))
SIZES=("${@:-100000 1000000}")
read -r -a SIZES <<<"${SIZES[*]}"
TPORT=${TANDEM_PORT:-6430}; RPORT=${REDIS_PORT:-6431}
OUT=$(mktemp -d)
target/release/tandem server --port "$TPORT" >"$OUT/tandem.log" 2>&1 &
TPID=$!
redis-server --port "$RPORT" --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
RPID=$!
trap 'kill $TPID $RPID 2>/dev/null || true' EXIT
for p in "$TPORT" "$RPORT"; do
  for _ in $(seq 100); do [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
done
run() { # server port size
  local json
  json=$(python3 scripts/expiry-lateness.py --port "$2" --background "$3" --probes "$PROBES" --spread "$SPREAD")
  echo "{\"server\":\"$1\",\"run\":$json}" | tee -a "$OUT/runs.jsonl"
}
for size in "${SIZES[@]}"; do
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then run tandem "$TPORT" "$size"; run redis "$RPORT" "$size"
    else run redis "$RPORT" "$size"; run tandem "$TPORT" "$size"; fi
  done
done
python3 - "$OUT/runs.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    groups.setdefault((r["run"]["background"], r["server"]), []).append(r["run"])
print("| background | server | runs | delivered | p50 ms | p99 ms | max ms |")
print("|---:|---|---:|---:|---:|---:|---:|")
def med(xs):
    xs = [float("inf") if x is None else x / 1e6 for x in xs]
    m = statistics.median(xs)
    return "inf (not all delivered)" if m == float("inf") else f"{m:.3f}"
for (bg, server), runs in sorted(groups.items()):
    d = statistics.median(r["delivered_fraction"] for r in runs)
    print(f"| {bg:,} | {server} | {len(runs)} | {d:.2%} | {med([r['p50_ns'] for r in runs])} | "
          f"{med([r['p99_ns'] for r in runs])} | {med([r['max_ns'] for r in runs])} |")
PY
