#!/usr/bin/env bash
# Runs schemathesis (property-based API testing, from PyPI) from
# docs/openapi.yaml against both deployments, the monolith and the
# microservices behind their gateway, each started fresh on SQLite files of
# its own and stopped afterwards. Exits non-zero on any failure.
#
#   ./scripts/schemathesis.sh [MAX_EXAMPLES]    (default 40 per operation)
#
# Schemathesis is installed, pinned, into a virtualenv under target/ on the
# first run (Debian: apt-get install python3-venv, if venv is missing).
# Every check it has runs, but three that do not fit a shop whose data
# changes under the test: use_after_free and ensure_resource_availability
# (the stateful links this document does not declare), and
# positive_data_acceptance (a well-formed order for a user or product that
# does not exist is rightly 404; an order over the stock, 409).
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=${1:-40}
version=4.32.5
venv=target/schemathesis-venv
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  echo "installing schemathesis $version into $venv"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y -qq python3-venv >/dev/null
    else
      echo "python3's venv is missing: apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi
cargo build --release --workspace --quiet

scratch=$(mktemp -d)
up_pid=
stop() {
  if [ -n "$up_pid" ]; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
    up_pid=
  fi
}
trap 'stop; rm -rf "$scratch"' EXIT

healthy() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2)' "$1" \
    >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

for layout in monolith micro; do
  port=$(free_port)
  target/release/shoplab up "$layout" --port "$port" --data-dir "$scratch/$layout" \
    >"$scratch/$layout.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1 100); do
    if healthy "$port"; then break; fi
    sleep 0.2
  done
  if ! healthy "$port"; then
    echo "the $layout did not come up on port $port:" >&2
    cat "$scratch/$layout.log" >&2
    exit 1
  fi
  echo "schemathesis against the $layout (port $port, $max_examples examples per operation)"
  "$venv/bin/st" run docs/openapi.yaml \
    --url "http://127.0.0.1:$port" \
    --checks all \
    --exclude-checks use_after_free,ensure_resource_availability,positive_data_acceptance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --seed 7 \
    --workers 2 \
    --request-timeout 10 \
    --generation-database none \
    --no-color
  stop
done
