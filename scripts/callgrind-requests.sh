#!/usr/bin/env bash
# Instructions a server spends on N requests, counted by callgrind
# (repeatable whatever else the machine does): starts BIN under
# valgrind --tool=callgrind with one serving thread, runs
# `redis-benchmark -t TEST -n N -c 10 -r 100000 -d 64` against it, shuts it
# down and prints callgrind's total. Run once with N=1 (TEST ping_inline)
# for the start-up and shutdown cost, and subtract.
#
# Usage: scripts/callgrind-requests.sh BIN PORT N TEST [OUT]
set -euo pipefail
BIN=$1; PORT=$2; N=$3; T=$4; OUT=${5:-$(mktemp)}
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$BIN" server --port "$PORT" \
  --bind 127.0.0.1 --io-threads 1 >/dev/null 2>&1 &
PID=$!
for _ in $(seq 200); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.2; done
redis-benchmark -p "$PORT" -t "$T" -n "$N" -c 10 -r 100000 -d 64 -q >/dev/null 2>&1
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
grep -E '^summary' "$OUT"
