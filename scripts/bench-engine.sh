#!/usr/bin/env bash
# The engine benchmark table in docs/BENCHMARKS.md: every row alternates
# Sharded and SingleLock (A B A B ...) and reports medians of ROUNDS runs.
# Usage: scripts/bench-engine.sh [ROUNDS]   (default 5; build first)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
T=target/release/tandem
AB="python3 scripts/ab.py --rounds $ROUNDS"
M='--memtable {sharded,single-lock}'

echo "## Writes, 64 threads, 1M keys (memtable document)"
$AB --fields ops_per_sec,p50_ns,p99_ns,p999_ns "$T bench engine --workload write --threads 64 --shards 32 $M"
echo
echo "## Reads and writes at 2 threads, 1M keys"
$AB --fields ops_per_sec,p50_ns,p99_ns,p999_ns "$T bench engine --workload read --threads 2 --shards 8 $M"
$AB --fields ops_per_sec,p50_ns,p99_ns,p999_ns "$T bench engine --workload write --threads 2 --shards 8 $M"
echo
echo "## 1,000-key scans, 1M keys"
$AB --fields ops_per_sec,p50_ns,p99_ns "$T bench engine --workload scan --threads 1 --ops 3000 --shards 8 $M"
$AB --fields ops_per_sec,p50_ns,p99_ns "$T bench engine --workload scan --threads 1 --ops 3000 --shards 32 $M"
echo
echo "## Self-scaling notes: 100 threads, 1M keys, 21M ops, half SET half GET"
$AB --fields ops_per_sec,p50_ns,p99_ns,p999_ns "$T bench engine --workload mixed --threads 100 --ops 21000000 --shards 32 $M"
echo
echo "## Memory: 1M keys, 16-byte keys, 64-byte values"
$AB --fields bytes_per_key,engine_bytes_per_key,ops_per_sec "$T bench engine --workload load --value-size 64 --threads 2 --shards 8 $M"
$AB --fields bytes_per_key,engine_bytes_per_key,ops_per_sec "$T bench engine --workload load --value-size 64 --threads 2 --shards 8 --ttl $M"
echo
echo "## Self-resizing: grow from one shard, 1M keys inserted then deleted"
G=ops_per_sec,cpu_ns_per_op,min_window_ratio,min_window_ratio_delete,p999_ns_migrating,p999_ns_steady,max_ns,resizes,peak_shards,peak_rss_bytes,loaded_rss_bytes,final_rss_bytes,migration_rss_ratio
for threads in 100 8 2; do
  $AB --all --fields $G "$T bench engine --workload grow --threads $threads --keys 1000000 {--migration-share 0.2,--migration-share 1,--shards 16}"
done
