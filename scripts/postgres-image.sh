#!/usr/bin/env bash
# Builds shoplab-postgres, the PostgreSQL server the compose deployments
# use on PostgreSQL (deploy/compose/postgres.yml), with no registry:
#   1. mmdebstrap (Debian's package; installed if missing) makes a minimal
#      Debian root filesystem with Debian's postgresql-15 from the archive;
#   2. `docker import` makes it the base image shoplab-postgres-base;
#   3. `docker build` adds the entrypoint (deploy/images/postgres/).
# Tagged `latest`. Takes a minute or two and downloads about 60 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
docker info >/dev/null 2>&1 || { echo "postgres-image.sh: no Docker engine answers" >&2; exit 1; }
if ! command -v mmdebstrap >/dev/null; then
    echo "installing Debian's mmdebstrap ..." >&2
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "mmdebstrap: Debian $suite, minbase and postgresql-15 ..." >&2
mmdebstrap --quiet --variant=minbase --include=postgresql-15 \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$work/rootfs.tar"
echo "docker import ..." >&2
docker import --message "mmdebstrap $suite minbase postgresql-15" "$work/rootfs.tar" shoplab-postgres-base:latest >/dev/null
echo "docker build shoplab-postgres ..." >&2
DOCKER_BUILDKIT=0 docker build --quiet --tag shoplab-postgres:latest deploy/images/postgres >/dev/null 2>"$work/build.log" ||
    { cat "$work/build.log" >&2; exit 1; }
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E '^shoplab-postgres(-base)?:latest'
