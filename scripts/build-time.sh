#!/usr/bin/env bash
# Build time, measured: clean builds of each binary's own crates (monolith vs
# each service), and rebuilds after a one-line change in the shared domain,
# the orders component, the orders service and the monolith. Runs in a copy of
# the workspace with its own target directory (target/build-time), so your
# build is untouched. Writes results/build-<timestamp>/build.json.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p shoplab --bin shoplab
exec target/release/shoplab build-time "$@"
