#!/bin/sh
# The access rules of both database servers: trust over the container's own unix socket (only a process inside
# the container reaches it), scram over TCP, which binds 127.0.0.1 only.
set -eu
cat > "$1" <<'HBA'
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
HBA
chown postgres:postgres "$1"
chmod 600 "$1"
