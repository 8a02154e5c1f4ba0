#!/usr/bin/env bash
# The expiry and pub/sub rows in docs/BENCHMARKS.md ("Precise expiry and
# the pub/sub hub"): medians of ROUNDS runs, variants alternating.
# Usage: scripts/bench-expiry.sh [ROUNDS]   (default 5; build first)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
T=target/release/tandem
AB="python3 scripts/ab.py --rounds $ROUNDS"

echo "## Expiry lateness: 10,000 probes over 10 s, with 0 or 1M background volatile keys"
$AB --fields delivered_fraction,p50_ns,p99_ns,p999_ns,max_ns,shards,timer_bytes_per_volatile_key \
  "$T bench engine --workload expiry --probes 10000 --spread 10 --background {0,1000000}"
echo
echo "## Memory per key with and without a TTL: 1M keys, 16-byte keys, 64-byte values"
$AB --fields bytes_per_key,engine_bytes_per_key \
  "$T bench engine --workload load --value-size 64 --threads 2 --shards 8 {--ttl,--keys=1000000}"
echo
echo "## Fan-out: 1 publisher, 1,000 subscribers, 64-byte messages"
$AB --fields deliveries_per_sec,publish_deliveries_per_sec,cut_off \
  "$T bench engine --workload fanout --subscribers 1000 --messages 2000 --value-size 64 --consumers 1 --receive {poll,async,block}"
