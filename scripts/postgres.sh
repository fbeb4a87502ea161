#!/usr/bin/env bash
# Makes a PostgreSQL server answer on 127.0.0.1:5432 for the lab's
# PostgreSQL variants (tests, compare, chaos), on a machine that may have none:
#   - installs Debian's `postgresql` if no server is installed;
#   - creates the cluster if there is none;
#   - lets 127.0.0.1 in as any user without a password (trust: this is a
#     throwaway server on loopback for the lab, never one holding real data);
#   - starts the cluster and waits until it answers;
#   - creates the database named by the first argument (default `test`).
# Then `postgres://postgres@127.0.0.1:5432/test` works. Prints `started` on its
# last line if it started the cluster (so a caller can stop it again with
# `scripts/postgres.sh --stop`), `running` if it was already up.
# Needs root (apt-get, pg_hba.conf).
set -euo pipefail

if [ "${1:-}" = "--stop" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main stop
    exit 0
fi
database=${1:-test}

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "installing Debian's postgresql ..." >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)

if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >&2
fi

# The first matching line of pg_hba.conf wins, so trust goes on top.
hba=/etc/postgresql/$version/main/pg_hba.conf
trust='host    all             all             127.0.0.1/32            trust'
if ! grep -qxF "$trust" "$hba"; then
    sed -i "1i $trust" "$hba"
    reload=1
fi

state=running
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    state=started
elif [ "${reload:-0}" = 1 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 1
done
pg_isready -h 127.0.0.1 -p 5432 >&2

exists=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "select count(*) from pg_database where datname = '$database'")
if [ "$exists" = 0 ]; then
    createdb -h 127.0.0.1 -U postgres "$database"
fi
echo "$state"
