#!/usr/bin/env bash
# Smoke test of a real `tandem server` process with real clients: redis-cli
# (apt redis-tools) and redis-py (pip redis). CI runs it after the test
# suite; it takes a few seconds. Installs the two clients when missing.
#
# Usage: scripts/smoke.sh [path/to/tandem]   (default: builds target/debug/tandem)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-cli >/dev/null; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq redis-tools >/dev/null
fi
if ! python3 -c 'import redis' 2>/dev/null; then
  python3 -m pip install -q redis 2>/dev/null ||
    python3 -m pip install -q --break-system-packages redis
fi

BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build -q --bin tandem
  BIN=target/debug/tandem
fi

# A port nobody listens on: ask the kernel for one.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
DATA=$(mktemp -d)
"$BIN" server --port "$PORT" --dir "$DATA" >"$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$LOG" "$DATA"' EXIT

# Waits until the server answers PONG (-LOADING while its data loads).
wait_ready() {
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
}
wait_ready

fail() { echo "smoke: $*" >&2; cat "$LOG" >&2; exit 1; }
expect() { # expect <wanted output> <redis-cli args...>
  local want=$1; shift
  local got
  got=$(redis-cli -p "$PORT" "$@" 2>&1) || true
  [ "$got" = "$want" ] || fail "redis-cli $*: wanted '$want', got '$got'"
}

expect PONG ping
expect OK set a b
expect b get a
expect 1 incr counter
expect 3 incrby counter 2
expect 1 expire a 100
expect 100 ttl a
expect "ERR unknown command 'nosuch', with args beginning with: 'x' " nosuch x
expect "ERR wrong number of arguments for 'get' command" get

# CONFIG SET loglevel changes what the running server logs: a protocol
# error is a debug line. It is logged before the error reply is sent, so
# once the reply is read the line is in the log or never will be.
protocol_error() {
  python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(b"*x\r\n"); s.recv(100)' "$PORT"
}
protocol_error
! grep -q "protocol error" "$LOG" || fail "a debug line was logged at loglevel notice"
expect OK config set loglevel debug
protocol_error
grep -q "protocol error" "$LOG" || fail "CONFIG SET loglevel debug logged no debug line"
expect OK config set loglevel notice
expect "$(printf 'save\n3600 1 300 100 60 10000')" config get save
echo "smoke: redis-cli ok"

python3 scripts/smoke.py "$PORT" || fail "redis-py"
echo "smoke: redis-py ok"

redis-cli -p "$PORT" shutdown >/dev/null 2>&1 || true
for _ in $(seq 100); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then fail "server still running after SHUTDOWN"; fi
wait "$PID" || fail "server exited with status $?"
echo "smoke: SHUTDOWN ok"

# SIGTERM: a graceful stop, with its log line and exit status 0; with
# Redis's default save rules, a snapshot on the way out.
"$BIN" server --port "$PORT" --dir "$DATA" >"$LOG" 2>&1 &
PID=$!
wait_ready
expect OK set before-term yes
kill -TERM "$PID"
wait "$PID" || fail "server exited with status $? after SIGTERM"
grep -q "received a shutdown signal" "$LOG" || fail "no shutdown log line after SIGTERM"
echo "smoke: SIGTERM ok"

# The snapshot taken at SIGTERM comes back; then a durable run
# (appendonly yes) keeps a write made just before a kill -9.
"$BIN" server --port "$PORT" --dir "$DATA" --appendonly yes >"$LOG" 2>&1 &
PID=$!
wait_ready
expect yes get before-term
expect OK set before-kill yes
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
"$BIN" server --port "$PORT" --dir "$DATA" --appendonly yes >"$LOG" 2>&1 &
PID=$!
wait_ready
expect yes get before-kill
expect yes get before-term
redis-cli -p "$PORT" shutdown >/dev/null 2>&1 || true
wait "$PID" || fail "server exited with status $?"
echo "smoke: restart after SIGTERM and kill -9 ok"

# TLS beside the plain port, mutual TLS (the default tls-auth-clients
# yes), and an ACL user from the command line: redis-cli --tls --user and
# redis-py with ssl=True and a username, against certificates made here.
CERTS="$DATA/certs"
scripts/tls_certs.sh "$CERTS"
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" server --port "$PORT" --dir "$DATA" --tls-port "$TLS_PORT" \
  --tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key" \
  --tls-ca-cert-file "$CERTS/ca.pem" \
  --user "app on >apppw ~app:* +@all -@dangerous" >"$LOG" 2>&1 &
PID=$!
wait_ready
tls_cli() {
  redis-cli --no-auth-warning --tls -h localhost -p "$TLS_PORT" --cacert "$CERTS/ca.pem" \
    --cert "$CERTS/client.pem" --key "$CERTS/client.key" "$@" 2>&1
}
[ "$(tls_cli --user app --pass apppw set app:1 v)" = OK ] || fail "redis-cli --tls --user: set"
[ "$(tls_cli --user app --pass apppw get app:1)" = v ] || fail "redis-cli --tls --user: get"
got=$(tls_cli --user app --pass apppw set other v)
[ "$got" = "NOPERM this user has no permissions to access one of the keys used as arguments" ] ||
  fail "redis-cli --tls --user: a key outside the user's patterns: $got"
got=$(redis-cli --tls -h localhost -p "$TLS_PORT" --cacert "$CERTS/ca.pem" ping 2>&1 || true)
[ "$got" != PONG ] || fail "a client without its certificate was served"
# ...refused by the server, which is still up and serving TLS clients.
[ "$(tls_cli ping)" = PONG ] || fail "after refusing a client without a certificate"
python3 scripts/smoke_tls.py "$TLS_PORT" "$CERTS" || fail "redis-py over TLS"
echo "smoke: TLS and ACL ok"
redis-cli -p "$PORT" shutdown >/dev/null 2>&1 || true
wait "$PID" || fail "server exited with status $?"
