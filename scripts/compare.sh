#!/usr/bin/env bash
# The lab's main job: build every binary in release mode, then run
# `shoplab compare`, which measures the monolith, the modular monolith and the
# microservices side by side on fresh SQLite databases (latency at equal load, maximum throughput,
# CPU per request, start-up, memory, the cost of a hop) and writes
# results/<timestamp>/result.json and report.html.
# Its counting pass runs every process under valgrind and counts system calls
# with perf: both are installed from Debian's packages here if they are
# missing and this runs as root; otherwise `shoplab compare` says the pass was
# skipped, and why.
# Extra arguments go to `shoplab compare` (try --help, --quick, --with-build,
# --no-count, --database-url postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    command -v valgrind >/dev/null || missing="$missing valgrind"
    command -v perf >/dev/null || missing="$missing linux-perf"
    if [ -n "$missing" ]; then
        echo "installing the counting pass's instruments:$missing ..." >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
    fi
fi
echo "building the workspace (release; the first build takes a few minutes) ..." >&2
cargo build --release --workspace --bins
exec target/release/shoplab compare "$@"
