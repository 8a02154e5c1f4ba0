#!/usr/bin/env bash
# The alert rules in deploy/prometheus: `promtool check rules` (syntax,
# templates) and `promtool test rules` (the unit tests in
# alerts_test.yml: each alert fires where it should and nowhere else).
# CI runs it (.ci/run); it installs promtool (Debian package prometheus)
# when missing.
set -euo pipefail
cd "$(dirname "$0")/../deploy/prometheus"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v promtool >/dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool check rules alerts.yml
promtool test rules alerts_test.yml
