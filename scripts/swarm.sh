#!/usr/bin/env bash
# The microservices on an orchestrator: Docker's swarm mode (part of the
# engine), with `docker stack deploy` of deploy/compose/microservices.yml and
# the swarm part of it, deploy/compose/swarm.yml (catalog 3 replicas, orders
# 2, DNS round robin: that file says why). Then, measured with the lab's load
# generator (`shoplab load`, an open loop at --rate):
#   1. a rolling update of catalog, then of orders, under load (`docker
#      service update --force`: one replica at a time, start-first, gated on
#      the image's health check), the orchestrated counterpart of `shoplab
#      rollout`: the failed requests are counted (the target is 0);
#   2. scaling catalog out (`docker service scale`): the maximum read
#      throughput (a closed loop) at 1 and at 3 replicas.
# Afterwards the stack and its volumes are removed, and swarm mode is left
# again if this script turned it on.
#
#   scripts/swarm.sh [--rate N] [--duration S] [--out DIR]
#
# Writes DIR/swarm.json (default results/swarm-<timestamp>) and prints a
# table. Needs a Docker engine and root-free access to it; builds the images
# (scripts/images.sh) and the release `shoplab` first.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=150 duration=30 out=results/swarm-$(date -u +%Y%m%dT%H%M%SZ)
while [ $# -gt 0 ]; do
    case $1 in
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "swarm.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
stack=shoplab-swarm
files=(-c deploy/compose/microservices.yml -c deploy/compose/swarm.yml)

scripts/images.sh shoplab-users shoplab-catalog shoplab-payments shoplab-orders shoplab-gateway
cargo build --release --bin shoplab
shoplab=target/release/shoplab

# A free port on the host for the gateway.
SHOPLAB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SHOPLAB_PORT
base_url=http://127.0.0.1:$SHOPLAB_PORT

joined=""
finish() {
    status=$?
    echo "removing the stack $stack ..." >&2
    docker stack rm "$stack" >/dev/null 2>&1 || true
    # The networks and volumes go once the stack's containers have.
    for _ in $(seq 1 60); do
        [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] && break
        sleep 0.5
    done
    docker volume ls -q --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker volume rm >/dev/null 2>&1 || true
    if [ -n "$joined" ]; then
        docker swarm leave --force >/dev/null && echo "left swarm mode again" >&2
        # The bridge `swarm init` made for the node's host-mode ports.
        docker network rm docker_gwbridge >/dev/null 2>&1 || true
    fi
    exit "$status"
}
trap finish EXIT

if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    if ! error=$(docker swarm init --advertise-addr 127.0.0.1 2>&1); then
        echo "swarm.sh: swarm mode will not start here: $error" >&2
        exit 1
    fi
    joined=1
    echo "swarm mode on (a one-node swarm; left again at the end)" >&2
fi

echo "docker stack deploy ${files[*]} $stack (gateway on $base_url) ..." >&2
docker stack deploy "${files[@]}" "$stack" >/dev/null 2>"$out/deploy.log" || { cat "$out/deploy.log" >&2; exit 1; }

# Waits until every service of the stack runs as many healthy tasks as it wants.
converged() {
    local deadline=$((SECONDS + ${1:-120}))
    while [ $SECONDS -lt $deadline ]; do
        if docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Replicas}}' |
            awk -F/ '$1 != $2 { bad = 1 } END { exit bad }'; then
            python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$base_url/health" 2>/dev/null && return 0
        fi
        sleep 1
    done
    docker service ls --filter "label=com.docker.stack.namespace=$stack" >&2
    return 1
}
converged 180 || { echo "swarm.sh: the stack did not converge" >&2; exit 1; }
docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}} {{.Replicas}}' >&2

# `shoplab load` against the gateway; its JSON into $out/$1.json.
load() {
    local name=$1; shift
    "$shoplab" load --base-url "$base_url" --no-ceiling --json "$@" >"$out/$name.json"
}

# A rolling update of $1 under an open loop of the mix (orders included).
rolling_update() {
    local service=$1
    echo "rolling update of $service under load ($rate req/s of the mix, $duration s) ..." >&2
    load "update-$service" --workload mix --rate "$rate" --duration "$duration" &
    local loading=$!
    sleep $((duration / 4))
    local started=$SECONDS
    docker service update --force --detach=false --quiet "${stack}_$service" >/dev/null
    echo "$((SECONDS - started))" >"$out/update-$service.seconds"
    wait "$loading"
    converged 60
}
rolling_update catalog
rolling_update orders

# Scaling out: the closed loop's maximum read throughput at 1 and 3 catalog replicas.
for replicas in 1 3; do
    echo "catalog at $replicas replica(s): the maximum read throughput (closed loop, 10 s) ..." >&2
    docker service scale --detach=false "${stack}_catalog=$replicas" >/dev/null 2>&1
    converged 120
    load "scale-$replicas" --workload read --duration 10
done

python3 - "$out" "$rate" "$duration" <<'PY'
import json, os, sys
out, rate, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def read(name):
    return json.load(open(os.path.join(out, name + ".json")))
result = {"rate": rate, "duration_s": duration, "updates": [], "scale": []}
print(f"\nswarm: a one-node swarm, catalog 3 replicas, orders 2 (DNS round robin); load: shoplab load\n")
print(f"{'rolling update (start-first)':<34}{'requests':>10}{'failed':>8}{'p50':>10}{'p99':>10}{'took':>8}")
for service in ("catalog", "orders"):
    run = read("update-" + service)
    took = int(open(os.path.join(out, f"update-{service}.seconds")).read())
    result["updates"].append({"service": service, "requests": run["requests"], "failed": run["errors"],
                              "errors_by_status": run["errors_by_status"], "p50_ms": run["latency_ms"]["p50"],
                              "p99_ms": run["latency_ms"]["p99"], "update_s": took})
    print(f"{service + f' (mix at {rate} req/s)':<34}{run['requests']:>10}{run['errors']:>8}"
          f"{run['latency_ms']['p50']:>8.2f}ms{run['latency_ms']['p99']:>8.2f}ms{took:>6} s")
print(f"\n{'scale out (read, closed loop)':<34}{'req/s':>10}{'failed':>8}{'p50':>10}{'p99':>10}")
for replicas in (1, 3):
    run = read(f"scale-{replicas}")
    result["scale"].append({"catalog_replicas": replicas, "throughput_rps": run["throughput_rps"],
                            "failed": run["errors"], "p50_ms": run["latency_ms"]["p50"], "p99_ms": run["latency_ms"]["p99"]})
    print(f"{f'catalog x{replicas}':<34}{run['throughput_rps']:>10.0f}{run['errors']:>8}"
          f"{run['latency_ms']['p50']:>8.2f}ms{run['latency_ms']['p99']:>8.2f}ms")
one, three = result["scale"]
print(f"\n3 catalog replicas: {three['throughput_rps'] / one['throughput_rps']:.2f}x the read throughput of one")
json.dump(result, open(os.path.join(out, "swarm.json"), "w"), indent=2)
print(f"written: {out}/swarm.json")
PY
