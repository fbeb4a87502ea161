#!/usr/bin/env bash
# The harness checked against a tool this project did not write: wrk and
# `shoplab load`'s closed loop on the same endpoint (GET /products/{id}, over
# the same 100 products), the same deployment and the same connections,
# pinned the same way (the deployment on one core, the generator on the
# other), one after the other. Prints both throughputs and medians.
#
#   scripts/wrk-check.sh [monolith|micro] [CONNECTIONS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-monolith}
connections=${2:-8}
seconds=${3:-10}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing: installing Debian's package ..." >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "wrk-check: installing wrk needs root (apt-get install wrk)" >&2
        exit 1
    fi
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --workspace --bins

# Pin like `shoplab compare`: the deployment on the first core, the
# generators on the last (nothing to split on one core).
cores=$(nproc)
if [ "$cores" -ge 2 ]; then
    deployment_core="taskset -c 0"
    generator_core="taskset -c $((cores - 1))"
else
    deployment_core=""
    generator_core=""
fi

scratch=$(mktemp -d)
trap 'kill "$up_pid" 2>/dev/null; wait "$up_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
$deployment_core target/release/shoplab up "$kind" --port 0 --data-dir "$scratch/data" \
    >"$scratch/url" 2>"$scratch/up.log" &
up_pid=$!
for _ in $(seq 1 300); do
    [ -s "$scratch/url" ] && break
    kill -0 "$up_pid" 2>/dev/null || { cat "$scratch/up.log" >&2; exit 1; }
    sleep 0.1
done
base_url=$(head -n 1 "$scratch/url")
echo "$kind at $base_url; $connections connections, $seconds s each" >&2

# Seed 100 products (and warm up) through shoplab load's own seeding.
$generator_core target/release/shoplab load --base-url "$base_url" --workload read \
    --connections "$connections" --duration 2 --no-ceiling --json >/dev/null

cat >"$scratch/read.lua" <<'LUA'
-- GET /products/{id} of a random one of the 100 seeded products, as
-- shoplab load's read workload does.
math.randomseed(1)
request = function()
    return wrk.format("GET", "/products/" .. math.random(1, 100))
end
LUA
$generator_core wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$scratch/read.lua" \
    "$base_url" >"$scratch/wrk.txt"
$generator_core target/release/shoplab load --base-url "$base_url" --workload read --no-seed \
    --connections "$connections" --duration "$seconds" --no-ceiling --json >"$scratch/load.json"

python3 - "$scratch/wrk.txt" "$scratch/load.json" <<'PY'
import json, re, sys
wrk = open(sys.argv[1]).read()
load = json.load(open(sys.argv[2]))
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
wrk_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
wrk_p50 = ms(re.search(r"^\s+50%\s+(\S+)", wrk, re.M).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
load_rps, load_p50 = load["throughput_rps"], load["latency_ms"]["p50"]
print(f"{'':18}{'req/s':>12}{'p50 ms':>10}")
print(f"{'wrk':18}{wrk_rps:>12.0f}{wrk_p50:>10.3f}")
print(f"{'shoplab load':18}{load_rps:>12.0f}{load_p50:>10.3f}")
print(f"{'shoplab / wrk':18}{load_rps / wrk_rps:>12.2f}{load_p50 / wrk_p50:>10.2f}")
print(f"errors: wrk {errors.group(1) if errors else 0}, shoplab load {load['errors']}")
PY
