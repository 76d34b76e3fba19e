#!/bin/sh
# PgBouncer in front of the primary, run as postgres (the container's user). Over TCP, buywhere is its admin user,
# with a password. Over its unix socket, the runbook's `docker exec … psql -U pgbouncer pgbouncer -c "SHOW POOLS;"`
# answers with no password: PgBouncer lets user pgbouncer in there when the client runs as PgBouncer's own user.
set -eu
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"buywhere" "%s"\n' "$POSTGRES_PASSWORD" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<CONF
[databases]
catalog = host=127.0.0.1 port=$DB_PORT dbname=catalog

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $dir
unix_socket_mode = 0700
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = buywhere
stats_users = buywhere
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
CONF
exec pgbouncer "$dir/pgbouncer.ini"
