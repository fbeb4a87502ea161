#!/usr/bin/env bash
# The seed's size claims on a grown shop: N generated components beside the
# real four, in two crate layouts, each deployment built clean, changed,
# broken and started. Builds in target/grow/ (a generated shop and its own
# target directory), so your sources and build are untouched. The full run
# builds for an hour or more; --quick (debug builds, N = 4 and 16) far less.
# Writes results/grow-<timestamp>/grow.json.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p shoplab --bin shoplab
exec target/release/shoplab grow "$@"
