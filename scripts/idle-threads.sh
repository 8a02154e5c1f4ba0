#!/usr/bin/env bash
# An idle server's threads and background cost: starts BIN on PORT with
# its defaults (16 databases), waits until it answers, then reads over
# SECONDS of idleness the process's CPU time (utime+stime from
# /proc/PID/stat) and, at the end, its threads, how many are named
# tandem-reaper and tandem-resizer, and the context switches all its
# threads made since start (voluntary + involuntary, /proc/PID/task/*/status).
#
# Usage: scripts/idle-threads.sh BIN [PORT] [SECONDS]   (defaults 6601, 20)
set -euo pipefail
BIN=$1; PORT=${2:-6601}; S=${3:-20}
"$BIN" server --port "$PORT" --bind 127.0.0.1 >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
sleep 1
t0=$(awk '{print $14+$15}' "/proc/$PID/stat")
sleep "$S"
t1=$(awk '{print $14+$15}' "/proc/$PID/stat")
threads=$(ls "/proc/$PID/task" | wc -l)
reapers=$(cat /proc/"$PID"/task/*/comm | grep -c tandem-reaper || true)
resizers=$(cat /proc/"$PID"/task/*/comm | grep -c tandem-resizer || true)
ctx=$(awk '/ctxt_switches/ {s+=$2} END {print s}' /proc/"$PID"/task/*/status)
echo "threads=$threads reapers=$reapers resizers=$resizers idle_cpu_ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) ctxsw_total=$ctx"
