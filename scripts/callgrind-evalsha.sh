#!/usr/bin/env bash
# Instructions a server spends per EVALSHA, counted by callgrind: starts
# the server under valgrind (Tandem with one serving thread), loads SCRIPT,
# runs 2,000 EVALSHAs (not counted), then 50,000 (50 clients, pipeline 16,
# -r 100000 so `__rand_int__` in a key is a random number), and prints the
# whole process's instructions over those 50,000, per request.
#
# Usage: scripts/callgrind-evalsha.sh tandem|redis BIN PORT SCRIPT NUMKEYS KEY...
#   scripts/callgrind-evalsha.sh tandem target/release/tandem 6420 \
#     "return redis.call('incr', KEYS[1])" 1 counter
set -euo pipefail
KIND=$1; BIN=$2; PORT=$3; SCRIPT=$4; shift 4
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
if [ "$KIND" = tandem ]; then
  ARGS=(server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --io-threads 1 --dir "$DIR")
else
  ARGS=(--port "$PORT" --save '' --dir "$DIR")
fi
valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" "$BIN" "${ARGS[@]}" >"$DIR/log" 2>&1 &
PID=$!
for _ in $(seq 300); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.3; done
SHA=$(redis-cli -p "$PORT" script load "$SCRIPT")
redis-benchmark -p "$PORT" -r 100000 -n 2000 -c 50 -P 16 EVALSHA "$SHA" "$@" >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
redis-benchmark -p "$PORT" -r 100000 -n 50000 -c 50 -P 16 EVALSHA "$SHA" "$@" >/dev/null
callgrind_control -d "$PID" >/dev/null 2>&1
for _ in $(seq 50); do [ -s "$DIR/cg.out.1" ] && break; sleep 0.2; done
sleep 1
TOTAL=$(callgrind_annotate "$DIR/cg.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$PID" || true
echo "instructions per request: $((TOTAL / 50000))"
