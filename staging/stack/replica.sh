#!/bin/sh
# Streaming replica of db, cloned with pg_basebackup. The password lives in a passfile, not in primary_conninfo.
set -eu
PGDATA=/var/lib/buywhere/data
PASSFILE=/var/lib/buywhere/pgpass
mkdir -p /var/lib/buywhere /run/postgresql
chown postgres:postgres /var/lib/buywhere /run/postgresql
printf '127.0.0.1:%s:*:buywhere:%s\n' "$DB_PORT" "$POSTGRES_PASSWORD" > "$PASSFILE"
chown postgres "$PASSFILE"; chmod 600 "$PASSFILE"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h 127.0.0.1 -p "$DB_PORT"; do sleep 1; done
  rm -rf "$PGDATA"
  runuser -u postgres -- env PGPASSFILE="$PASSFILE" pg_basebackup -h 127.0.0.1 -p "$DB_PORT" -U buywhere \
    -D "$PGDATA" -X stream -c fast
  cat >> "$PGDATA/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=127.0.0.1 port=$DB_PORT user=buywhere passfile=$PASSFILE application_name=db_replica'
port = $DB_REPLICA_PORT
hot_standby = on
CONF
  runuser -u postgres -- touch "$PGDATA/standby.signal"
fi
# pg_basebackup copied the primary's rules as they were at the clone; the replica's own are written every start.
sh /stack/pg-hba.sh "$PGDATA/pg_hba.conf"
exec runuser -u postgres -- postgres -D "$PGDATA"
