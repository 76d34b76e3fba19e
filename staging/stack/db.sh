#!/bin/sh
# PostgreSQL 15 primary. Over TCP, password auth (scram) from POSTGRES_PASSWORD, which never reaches a command
# line. Over the container's own socket, trust: the runbook's `docker exec … psql -U buywhere -d catalog` types
# no password.
set -eu
PGDATA=/var/lib/buywhere/data
mkdir -p /var/lib/buywhere /run/postgresql
chown postgres:postgres /var/lib/buywhere /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- initdb -D "$PGDATA" -U buywhere --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $DB_PORT
shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
wal_keep_size = 2GB
max_connections = 200
password_encryption = scram-sha-256
CONF
  runuser -u postgres -- pg_ctl -D "$PGDATA" -o "-c listen_addresses=" -w start >/dev/null
  PGPASSWORD="$POSTGRES_PASSWORD" psql -h /run/postgresql -p "$DB_PORT" -U buywhere -d postgres -qc "CREATE DATABASE catalog"
  runuser -u postgres -- pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
# Written on every start, not only at initdb: a volume made before keeps whatever rules it was made with.
sh /stack/pg-hba.sh "$PGDATA/pg_hba.conf"
exec runuser -u postgres -- postgres -D "$PGDATA"
