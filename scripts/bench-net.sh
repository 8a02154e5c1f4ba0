#!/usr/bin/env bash
# Tandem against Redis 7.0 over the network under Tandem's own load
# generator (`tandem bench net`): MULTI/EXEC transactions and pub/sub
# fan-out, side by side on this machine.
#
# What it measures (scripts/bench_net.py does the measuring):
#   fast     50 clients, each one transaction per round trip: MULTI, 4 x SET
#            on ONE random key, EXEC, in one write (on Tandem: the engine's
#            one-shard path). 5 rounds of 10 s.
#   multi    the same with 4 distinct random keys per transaction (on Tandem
#            usually several shards). 5 rounds of 10 s.
#   fanout   1,000 subscribers of one channel, 1 publisher, 20,000 messages
#            of 64 bytes (20M deliveries), 100 PUBLISHes per write.
#            3 rounds.
# Per workload: fresh servers (the keyspace prefilled for the SET
# workloads), rounds alternating which server goes first (A B, B A, ...),
# medians per server, medians of the per-round Tandem/Redis ratios, and the
# server's CPU time per transaction / per delivery (utime+stime of the
# server process from /proc over the measured phase). Output: a Markdown
# table for docs/BENCHMARKS.md followed by every run's numbers; progress on
# stderr. Servers are stopped on exit, whatever the exit.
#
# Usage: scripts/bench-net.sh --help       (build target/release/tandem first)
set -euo pipefail
CALLER_PWD=$PWD
CMDLINE=scripts/bench-net.sh
if (($#)); then CMDLINE+=$(printf ' %q' "$@"); fi
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF2'
Usage: scripts/bench-net.sh [options]

Options:
  --workloads LIST   comma-separated, of fast, multi, fanout (default all three)
  --rounds N         rounds for fast and multi (default 5)
  --fanout-rounds N  rounds for fanout (default 3)
  --clients N        transaction clients (default 50)
  --seconds S        seconds per transaction run (default 10)
  --keys-per-tx N    commands per transaction (default 4)
  --keyspace N       keys key:%012d drawn from 0..N-1 (default 1000000)
  --command C        set (default) or incr (incr skips the prefill)
  --value-size N     SET value and message payload bytes (default 64)
  --no-prefill       do not SET every key before the transaction rounds
  --subscribers N    fanout subscribers (default 1000)
  --publishers N     fanout publishers (default 1)
  --messages N       fanout messages per run (default 20000)
  --batch N          PUBLISHes per write (default 100)
  --timeout S        fanout: seconds to wait for deliveries (default 120)
  --client-threads N load generator threads (default 1)
  --tandem-port P    port for Tandem (default 6440)
  --redis-port P     port for Redis (default 6441)
  --json FILE        also write everything as JSON to FILE
  -h, --help         this text

Environment:
  TANDEM_BIN    Tandem binary, also the load generator (default
                target/release/tandem); started as
                "$TANDEM_BIN server --port P $TANDEM_ARGS"
  TANDEM_ARGS   extra Tandem server arguments (default "--bind 127.0.0.1")
  REDIS_SERVER  redis-server binary (default redis-server); started as
                "$REDIS_SERVER --port P --save '' --appendonly no --bind 127.0.0.1 $REDIS_ARGS"
  REDIS_ARGS    extra Redis arguments (default none)

Examples:
  scripts/bench-net.sh                                  # about 6 min on 2 cores
  scripts/bench-net.sh --workloads fanout --messages 5000
  scripts/bench-net.sh --workloads fast --seconds 2 --rounds 1 --clients 4
EOF2
}

ARGS=()
JSON=""
need() { [[ $# -ge 2 ]] || { echo "bench-net: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-prefill) ARGS+=("$1"); shift ;;
    --json) need "$@"; JSON=$(cd "$CALLER_PWD" && realpath -m -- "$2"); shift 2 ;;
    --workloads|--rounds|--fanout-rounds|--clients|--seconds|--keys-per-tx|--keyspace|\
    --command|--value-size|--subscribers|--publishers|--messages|--batch|--timeout|\
    --client-threads|--tandem-port|--redis-port)
      need "$@"; ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-net: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

TANDEM_BIN=${TANDEM_BIN:-target/release/tandem}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
for tool in "$REDIS_SERVER" python3; do
  command -v "$tool" >/dev/null || { echo "bench-net: $tool not found" >&2; exit 1; }
done
[[ -x $TANDEM_BIN ]] || command -v "$TANDEM_BIN" >/dev/null ||
  { echo "bench-net: $TANDEM_BIN is not executable (cargo build --release, or set TANDEM_BIN)" >&2; exit 1; }
# Servers run in scratch directories: resolve the binary now.
if [[ $TANDEM_BIN == */* ]]; then TANDEM_BIN=$(realpath "$TANDEM_BIN"); fi

# 1,000 subscribers need 1,000 descriptors in the client and as many in
# each server, above the usual soft limit of 1024. Raise ours (inherited by
# servers and client) as far as the hard limit allows.
want=20000
hard=$(ulimit -Hn)
if [[ $hard != unlimited && $hard -lt $want ]]; then want=$hard; fi
ulimit -Sn "$want" 2>/dev/null || true
if (( $(ulimit -Sn) < 2100 )); then
  echo "bench-net: warning: ulimit -n is $(ulimit -Sn); 1,000 subscribers need about 2,100" >&2
fi

PY=(python3 scripts/bench_net.py --tandem-bin "$TANDEM_BIN"
  --tandem-args "${TANDEM_ARGS-"--bind 127.0.0.1"}" --redis-server "$REDIS_SERVER"
  --redis-args "${REDIS_ARGS-}" --cmdline "$CMDLINE" ${JSON:+--json "$JSON"}
  ${ARGS[@]+"${ARGS[@]}"})
PY_PID=""
cleanup() {
  if [[ -n $PY_PID ]]; then kill "$PY_PID" 2>/dev/null || true; wait "$PY_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# In the background and waited for, so that a signal runs the trap at once;
# the Python side stops its servers on SIGTERM.
"${PY[@]}" &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=""
exit "$rc"
