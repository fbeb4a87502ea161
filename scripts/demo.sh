#!/usr/bin/env bash
# The lab's main job (for now): build every binary in release mode, then run
# `shoplab demo`, which starts both deployments on fresh SQLite databases, runs
# the same scenario against each and prints the results side by side.
# Extra arguments go to `shoplab demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building the workspace (release; the first build takes a few minutes) ..." >&2
cargo build --release --workspace --bins
exec target/release/shoplab demo "$@"
