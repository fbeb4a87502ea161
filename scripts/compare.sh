#!/usr/bin/env bash
# The lab's main job: build every binary in release mode, then run
# `shoplab compare`, which measures the monolith, the modular monolith and the
# microservices side by side on fresh SQLite databases (latency at equal load, maximum throughput,
# CPU per request, start-up, memory, the cost of a hop) and writes
# results/<timestamp>/result.json and report.html.
# Extra arguments go to `shoplab compare` (try --help, --quick, --with-build,
# --database-url postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building the workspace (release; the first build takes a few minutes) ..." >&2
cargo build --release --workspace --bins
exec target/release/shoplab compare "$@"
