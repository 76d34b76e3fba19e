#!/bin/sh
# Redis with a password and maxmemory; the config file keeps the password off the command line.
set -eu
mkdir -p /var/lib/buywhere
cat > /tmp/redis.conf <<CONF
bind 127.0.0.1
port $REDIS_PORT
requirepass $REDIS_PASSWORD
maxmemory ${REDIS_MAXMEMORY:-256mb}
maxmemory-policy allkeys-lru
dir /var/lib/buywhere
save ""
appendonly no
CONF
chmod 600 /tmp/redis.conf
exec redis-server /tmp/redis.conf
