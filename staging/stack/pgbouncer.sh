#!/bin/sh
# PgBouncer in front of the primary; buywhere is its admin user, so SHOW POOLS works over the admin console.
set -eu
dir=/tmp/pgbouncer
mkdir -p "$dir"
printf '"buywhere" "%s"\n' "$POSTGRES_PASSWORD" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<CONF
[databases]
catalog = host=127.0.0.1 port=$DB_PORT dbname=catalog

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = buywhere
stats_users = buywhere
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
CONF
chown -R postgres "$dir"; chmod 600 "$dir/userlist.txt"
exec runuser -u postgres -- pgbouncer "$dir/pgbouncer.ini"
