#!/usr/bin/env bash
# Makes a throwaway CA, a server certificate for localhost and 127.0.0.1,
# and a client certificate, all signed by the CA, in DIR:
# ca.pem, server.pem, server.key, client.pem, client.key.
# For the smoke test and the TLS benchmark (never for production use).
#
# Usage: scripts/tls_certs.sh DIR
set -euo pipefail
DIR=$1
mkdir -p "$DIR"
cd "$DIR"
if ! command -v openssl >/dev/null; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root apt-get install -y -qq openssl >/dev/null
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=tandem test CA" 2>/dev/null
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$who.key" -out "$who.csr" -subj "/CN=$who" 2>/dev/null
  if [ "$who" = server ]; then
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext
  else
    printf 'extendedKeyUsage=clientAuth\n' > ext
  fi
  openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 2 -out "$who.pem" -extfile ext 2>/dev/null
done
rm -f ext ./*.csr ca.srl
