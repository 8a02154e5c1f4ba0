#!/usr/bin/env bash
# Instructions a serving thread spends per request, counted by callgrind:
# repeatable where timings on a shared machine are not. Starts BIN with one
# serving thread under valgrind, optionally fills it first (PREFILL_TEST,
# PREFILL_N: a redis-benchmark test whose instructions are not counted),
# runs one redis-benchmark test against it (50 clients, -r 1000000 random
# keys, -d 64), and prints the instructions counted inside the
# connection's task during that test (`Connection::run` and all it calls:
# parsing, commands, the engine; not the resizer or other background
# threads, whose work depends on the run's wall-clock length), divided by
# the requests.
#
# Usage: scripts/callgrind_per_request.sh BIN TEST PIPELINE REQUESTS [PREFILL_TEST PREFILL_N]
#   e.g. scripts/callgrind_per_request.sh target/release/tandem lpush 16 100000
#        scripts/callgrind_per_request.sh target/release/tandem zpopmin 16 100000 zadd 200000
# Needs valgrind (callgrind_control) and redis-benchmark. Compare two
# builds by running both, one after the other: the count varies by about
# 1% between runs of one build at pipeline 16 (more at pipeline 1, where
# the keyspace's tree grows differently with timing).
set -euo pipefail
BIN=$(realpath "$1")
TEST=$2
PIPELINE=$3
REQUESTS=$4
PREFILL_TEST=${5:-}
PREFILL_N=${6:-0}
PORT=${PORT:-6400}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
valgrind --tool=callgrind \
    --toggle-collect='*tandem_server::connection::Connection::run*' \
    --callgrind-out-file="$DIR/cg.out" \
    "$BIN" server --port "$PORT" --save '' --io-threads 1 >/dev/null 2>&1 &
VG=$!
for _ in $(seq 200); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.3
done
bench() {
    redis-benchmark -p "$PORT" -t "$1" -n "$2" -c 50 -r 1000000 -d 64 \
        -P "$PIPELINE" -q >/dev/null
}
if [ -n "$PREFILL_TEST" ]; then
    bench "$PREFILL_TEST" "$PREFILL_N"
fi
callgrind_control -z "$VG" >/dev/null 2>&1
bench "$TEST" "$REQUESTS"
callgrind_control -d "$VG" >/dev/null 2>&1
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$VG" || true
TOTAL=$(awk '/^summary:/ {print $2}' "$DIR"/cg.out.1)
echo "$TEST P$PIPELINE: $TOTAL instructions, $((TOTAL / REQUESTS)) per request"
