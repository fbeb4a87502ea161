#!/bin/sh
# The PostgreSQL server of the compose deployments on PostgreSQL
# (deploy/compose/postgres.yml): on its first start, a cluster in $PGDATA
# (the volume) that trusts every address on the services' private network,
# with one database per name in $SHOPLAB_DATABASES; then the server.
# A throwaway server for the lab, never one holding real data.
set -eu
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    "$bin/initdb" --pgdata="$PGDATA" --username=postgres --auth=trust >/dev/null
    echo "host all all all trust" >>"$PGDATA/pg_hba.conf"
    "$bin/pg_ctl" --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
    for database in ${SHOPLAB_DATABASES:-}; do
        "$bin/createdb" --username=postgres "$database"
    done
    "$bin/pg_ctl" --pgdata="$PGDATA" --mode=fast --wait --silent stop
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*'
