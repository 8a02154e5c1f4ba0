#!/usr/bin/env bash
# Two Tandem builds side by side: SET then GET under redis-benchmark (50
# clients, -r 1000000, -d 64, pipeline 16, 1,000,000 requests each),
# alternating which build goes first, 5 rounds, both servers started fresh
# (round 1 is a cold start; later rounds find the keys there). Prints each
# run's ops/s, p99 and server CPU per request (utime+stime from /proc), and
# each build's shard count at the end.
#
# Usage: scripts/ab-builds-set-get.sh OLD_BIN NEW_BIN
set -euo pipefail
OLD=$1; NEW=$2
DIR=$(mktemp -d)
mkdir -p "$DIR/old" "$DIR/new"
"$OLD" server --port 6431 --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR/old" >"$DIR/old.log" 2>&1 &
PO=$!
"$NEW" server --port 6432 --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR/new" >"$DIR/new.log" 2>&1 &
PN=$!
trap 'kill $PO $PN 2>/dev/null; rm -rf "$DIR"' EXIT
for p in 6431 6432; do
  for _ in $(seq 100); do [ "$(redis-cli -p $p ping 2>/dev/null)" = PONG ] && break; sleep 0.2; done
done
run() { # port pid test
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$2/stat")
  out=$(redis-benchmark -p "$1" -r 1000000 -n 1000000 -c 50 -P 16 -d 64 --csv -t "$3" | tail -1)
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$2/stat")
  echo "$out" | awk -F, -v t=$((u1 - u0 + s1 - s0)) -v hz="$(getconf CLK_TCK)" \
    '{gsub("\"","",$1); gsub("\"","",$2); gsub("\"","",$8);
      printf "%s ops/s %s p99 %s cpu_us/req %.2f\n", $1, $2, $8, t * 1e6 / hz / 1000000}'
}
for r in 1 2 3 4 5; do
  if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for t in set get; do
    for w in $order; do
      if [ "$w" = old ]; then echo -n "round $r old "; run 6431 $PO $t
      else echo -n "round $r new "; run 6432 $PN $t; fi
    done
  done
done
echo "old $(redis-cli -p 6431 info | grep '^db0:shards' | cut -d, -f1)"
echo "new $(redis-cli -p 6432 info | grep '^db0:shards' | cut -d, -f1)"
