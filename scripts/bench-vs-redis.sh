#!/usr/bin/env bash
# Tandem against Redis 7.0 over the network, side by side on this machine.
#
# What it measures, per workload:
#   cells (default)  SET and GET under redis-benchmark: 50 clients, -r 1000000
#                    random keys, -d 64 values, pipeline 1 and pipeline 16.
#   notes            the self-scaling engine notes' workload over the network:
#                    100 clients, 1,000,000 keys, 21,000,000 ops, half SET then
#                    half GET (-t set then -t get, -n 10500000 each), pipeline 1.
#   idle             server memory per idle connection (10,000 connections,
#                    each PINGed once), via scripts/idle-connections.py.
# For cells and notes it reports, per cell and server, the medians of ops/s,
# p99 latency (redis-benchmark's CSV) and the server's CPU time per request
# (utime+stime of the server process from /proc/<pid>/stat, read before and
# after each redis-benchmark run, in CLK_TCK ticks), plus the median of the
# per-round Tandem/Redis ratios. Output is a Markdown table for
# docs/BENCHMARKS.md followed by every run's numbers.
#
# How: both servers start once per invocation (fresh, empty, in a scratch
# directory), get every key of the keyspace SET once (unmeasured prefill, so
# GETs hit from round 1 and all rounds see the same data), then each round
# runs every cell on both servers back to back: Tandem first in odd rounds,
# Redis first in even ones (A B, B A, A B, ...). Each redis-benchmark run is
# one test (-t set or -t get) so its CPU time is its own. Servers are killed
# on exit, whatever the exit. The idle workload starts a fresh server per
# run instead, since freed connection memory is not given back to the OS.
#
# Usage: scripts/bench-vs-redis.sh --help        (build target/release/tandem first)
set -euo pipefail
CALLER_PWD=$PWD
CMDLINE=scripts/bench-vs-redis.sh
if (($#)); then CMDLINE+=$(printf ' %q' "$@"); fi
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/bench-vs-redis.sh [options]

Runs Tandem and Redis side by side under redis-benchmark (A B, B A, ... by
round) and prints medians, Tandem/Redis ratios and CPU per request as a
Markdown table, then the raw runs. Progress goes to stderr.

Options:
  --workload W       cells (default): SET/GET x pipeline 1/16, 50 clients
                     notes: 100 clients, 1M keys, 21M ops half SET half GET
                     idle:  memory per idle connection (fresh servers per run)
  --rounds N         rounds, each running every cell on both servers (default 5)
  --n-p1 N           cells: requests per pipeline-1 run (default 300000)
  --n-p16 N          cells: requests per pipeline-16 run (default 1000000)
  -n N               notes: total operations, half SET, half GET (default 21000000)
  -P N               notes: pipeline depth (default 1)
  -c N               clients (default 50 for cells, 100 for notes)
  -r N               keyspace, random keys 0..N-1 (default 1000000)
  -d N               value size in bytes (default 64)
  --bench-args 'A'   extra redis-benchmark arguments, e.g. '--threads 2'
  --tests T,T        cells: redis-benchmark tests to run (default SET,GET; e.g. HSET)
  --no-prefill       do not SET every key before the first round
  --conns N          idle: connections (default 10000)
  --hold S           idle: seconds to hold them idle (default 5)
  --tandem-port P    port for Tandem (default 6390)
  --redis-port P     port for Redis (default 6391)
  --json FILE        also write everything as JSON to FILE
  -h, --help         this text

Environment:
  TANDEM_BIN       Tandem binary (default target/release/tandem; a relative
                   path is from the repository root); started as
                   "$TANDEM_BIN server --port P $TANDEM_ARGS"
  TANDEM_ARGS      extra Tandem server arguments (default "--bind 127.0.0.1")
  REDIS_SERVER     redis-server binary (default redis-server); started as
                   "$REDIS_SERVER --port P --save '' --appendonly no --bind 127.0.0.1"
  REDIS_BENCHMARK  redis-benchmark binary (default redis-benchmark)
  REDIS_CLI        redis-cli binary (default redis-cli)

Examples:
  scripts/bench-vs-redis.sh                                # about 2 min on 2 cores
  scripts/bench-vs-redis.sh --workload notes               # about 30 min on 2 cores
  scripts/bench-vs-redis.sh --workload notes -n 2000000 --rounds 3
  scripts/bench-vs-redis.sh --workload idle --json idle.json
EOF
}

WORKLOAD=cells
ROUNDS=5
N_P1=300000
N_P16=1000000
NOTES_N=21000000
NOTES_P=1
CLIENTS=""
KEYSPACE=1000000
DATA=64
BENCH_ARGS=""
PREFILL=1
CONNS=10000
HOLD=5
TPORT=6390
RPORT=6391
JSON=""

need() { [[ $# -ge 2 ]] || { echo "bench-vs-redis: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workload) need "$@"; WORKLOAD=$2; shift 2 ;;
    --rounds) need "$@"; ROUNDS=$2; shift 2 ;;
    --n-p1) need "$@"; N_P1=$2; shift 2 ;;
    --n-p16) need "$@"; N_P16=$2; shift 2 ;;
    -n) need "$@"; NOTES_N=$2; shift 2 ;;
    -P) need "$@"; NOTES_P=$2; shift 2 ;;
    -c) need "$@"; CLIENTS=$2; shift 2 ;;
    -r) need "$@"; KEYSPACE=$2; shift 2 ;;
    -d) need "$@"; DATA=$2; shift 2 ;;
    --bench-args) need "$@"; BENCH_ARGS=$2; shift 2 ;;
    --tests) need "$@"; TESTS=$2; shift 2 ;;
    --no-prefill) PREFILL=0; shift ;;
    --conns) need "$@"; CONNS=$2; shift 2 ;;
    --hold) need "$@"; HOLD=$2; shift 2 ;;
    --tandem-port) need "$@"; TPORT=$2; shift 2 ;;
    --redis-port) need "$@"; RPORT=$2; shift 2 ;;
    --json) need "$@"; JSON=$(cd "$CALLER_PWD" && realpath -m -- "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-vs-redis: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$WORKLOAD" in cells|notes|idle) ;; *)
  echo "bench-vs-redis: --workload must be cells, notes or idle" >&2; exit 2 ;;
esac
for v in ROUNDS N_P1 N_P16 NOTES_N NOTES_P KEYSPACE DATA CONNS TPORT RPORT; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || { echo "bench-vs-redis: $v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ -z $CLIENTS || $CLIENTS =~ ^[0-9]+$ ]] || { echo "bench-vs-redis: -c must be a number" >&2; exit 2; }
[[ $TPORT != "$RPORT" ]] || { echo "bench-vs-redis: the two ports must differ" >&2; exit 2; }

TANDEM_BIN=${TANDEM_BIN:-target/release/tandem}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
read -r -a TANDEM_EXTRA <<<"${TANDEM_ARGS-"--bind 127.0.0.1"}"

for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI" python3; do
  command -v "$tool" >/dev/null || { echo "bench-vs-redis: $tool not found" >&2; exit 1; }
done
[[ -x $TANDEM_BIN ]] || command -v "$TANDEM_BIN" >/dev/null ||
  { echo "bench-vs-redis: $TANDEM_BIN is not executable (cargo build --release, or set TANDEM_BIN)" >&2; exit 1; }
# Scratch directories make relative paths break: resolve the binary now.
if [[ $TANDEM_BIN == */* ]]; then TANDEM_BIN=$(realpath "$TANDEM_BIN"); fi

TANDEM_CMD=("$TANDEM_BIN" server --port "$TPORT" ${TANDEM_EXTRA[@]+"${TANDEM_EXTRA[@]}"})
REDIS_CMD=("$REDIS_SERVER" --port "$RPORT" --save "" --appendonly no --bind 127.0.0.1)
PY=(python3 scripts/bench_vs_redis.py)

if [[ $WORKLOAD == idle ]]; then
  # Redis refuses clients past maxclients (10,000 by default).
  REDIS_CMD+=(--maxclients "$((CONNS + 100))")
  exec "${PY[@]}" idle --rounds "$ROUNDS" --conns "$CONNS" --hold "$HOLD" \
    --server Tandem "$TPORT" "$(printf '%q ' "${TANDEM_CMD[@]}")" \
    --server Redis "$RPORT" "$(printf '%q ' "${REDIS_CMD[@]}")" \
    --redis-server "$REDIS_SERVER" --tandem-bin "$TANDEM_BIN" \
    --redis-benchmark "$REDIS_BENCHMARK" --cmdline "$CMDLINE" ${JSON:+--json "$JSON"}
fi

SCRATCH=$(mktemp -d /tmp/bench-vs-redis.XXXXXX)
PIDS=()
PY_PID=""
cleanup() {
  local rc=$? pid
  if [[ -n $PY_PID ]]; then kill "$PY_PID" 2>/dev/null || true; wait "$PY_PID" 2>/dev/null || true; fi
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill -9 "$pid" 2>/dev/null || true; done
  if [[ $rc == 0 || $rc == 130 || $rc == 143 ]]; then rm -rf "$SCRATCH"
  else echo "bench-vs-redis: failed (exit $rc); server logs kept in $SCRATCH" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT CMD...: runs CMD in its own scratch directory, waits for
# PONG, and sets SERVER_PID to the process that listens on PORT.
start() {
  local name=$1 port=$2; shift 2
  if listening "$port"; then
    echo "bench-vs-redis: something already listens on port $port; use --${name,,}-port" >&2
    exit 1
  fi
  mkdir -p "$SCRATCH/$name"
  (cd "$SCRATCH/$name" && exec "$@" >"$SCRATCH/$name.log" 2>&1 </dev/null) &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench-vs-redis: $name exited before answering PING: $*" >&2
      tail -20 "$SCRATCH/$name.log" >&2
      exit 1
    fi
    [[ $("$REDIS_CLI" -p "$port" ping 2>/dev/null) == PONG ]] && break
    sleep 0.05
  done
  [[ $("$REDIS_CLI" -p "$port" ping 2>/dev/null) == PONG ]] ||
    { echo "bench-vs-redis: $name did not answer PING on port $port within 10 s" >&2; exit 1; }
  # A wrapper that forks rather than execs would hide the real server.
  SERVER_PID=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
  if [[ -z $SERVER_PID ]]; then SERVER_PID=$pid; fi
  [[ $SERVER_PID == "$pid" ]] || PIDS+=("$SERVER_PID")
  echo "started $name (pid $SERVER_PID, port $port):$(printf ' %q' "$@")" >&2
}

start Tandem "$TPORT" "${TANDEM_CMD[@]}"
T_PID=$SERVER_PID
start Redis "$RPORT" "${REDIS_CMD[@]}"
R_PID=$SERVER_PID

ARGS=(net --workload "$WORKLOAD" --rounds "$ROUNDS" -r "$KEYSPACE" -d "$DATA"
  --server Tandem "$TPORT" "$T_PID" --server Redis "$RPORT" "$R_PID"
  --redis-benchmark "$REDIS_BENCHMARK" --redis-server "$REDIS_SERVER"
  --tandem-bin "$TANDEM_BIN" --cmdline "$CMDLINE" --bench-args "$BENCH_ARGS")
if [[ $WORKLOAD == cells ]]; then ARGS+=(--n-p1 "$N_P1" --n-p16 "$N_P16" --tests "${TESTS:-SET,GET}")
else ARGS+=(-n "$NOTES_N" -P "$NOTES_P"); fi
[[ -n $CLIENTS ]] && ARGS+=(-c "$CLIENTS")
[[ $PREFILL == 1 ]] || ARGS+=(--no-prefill)
[[ -n $JSON ]] && ARGS+=(--json "$JSON")
# In the background and waited for, so that a signal runs the trap at once.
"${PY[@]}" "${ARGS[@]}" &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=""
exit "$rc"
