#!/bin/bash
# Memory per key of a server loaded by redis-benchmark's SETs (16-byte
# keys, 3-byte values, ~865,000 distinct keys), from `used_memory` and
# the growth of VmRSS, divided by DBSIZE. Starts the server itself and
# stops it after.
# usage: scripts/bench_memory_per_key.sh NAME PORT SERVER-COMMAND...
#   e.g. scripts/bench_memory_per_key.sh redis 7203 redis-server --port 7203 --save ''
name=$1; port=$2; shift 2
"$@" >/dev/null 2>&1 &
pid=$!
for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
u0=$(redis-cli -p $port info memory | grep '^used_memory:' | cut -d: -f2 | tr -d '\r')
r0=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
redis-benchmark -p $port -t set -n 2000000 -r 1000000 -d 3 -P 16 -c 20 -q >/dev/null 2>&1
u1=$(redis-cli -p $port info memory | grep '^used_memory:' | cut -d: -f2 | tr -d '\r')
r1=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
n=$(redis-cli -p $port dbsize)
python3 -c "print('$name keys=%d used/key=%.1f rss/key=%.1f' % ($n, ($u1-$u0)/$n, ($r1-$r0)*1024/$n))"
kill $pid; wait $pid 2>/dev/null
