#!/bin/sh
# pg_dump of the catalog into backups/ at start and every BACKUP_INTERVAL_S. A dump lands under its final
# name only when complete, so a half-written file never counts as a backup.
set -eu
# As PID 1, sh ignores SIGTERM unless trapped, and compose stop would wait out its 10 s grace period.
trap 'exit 0' TERM INT
rm -f /backups/.*.partial
export PGPASSWORD="$POSTGRES_PASSWORD"
while :; do
  until pg_isready -q -h 127.0.0.1 -p "$DB_PORT"; do sleep 1; done
  name="catalog-$(date -u +%Y%m%dT%H%M%SZ).dump"
  if pg_dump -h 127.0.0.1 -p "$DB_PORT" -U buywhere -d catalog -Fc -Z 1 -f "/backups/.$name.partial"; then
    mv "/backups/.$name.partial" "/backups/$name"
    find /backups -maxdepth 1 -name 'catalog-*.dump' -mtime +"${BACKUP_KEEP_DAYS:-7}" -delete
    touch /tmp/heartbeat
    echo "backup written: $name"
    [ "${BACKUP_ONCE:-0}" = 1 ] && exit 0
  else
    rm -f "/backups/.$name.partial"
    echo "backup failed" >&2
    [ "${BACKUP_ONCE:-0}" = 1 ] && exit 1
  fi
  sleep "$BACKUP_INTERVAL_S" &
  wait $!
done
