#!/bin/sh
# The scraper's stand-in: every SCRAPER_INTERVAL_S it refreshes a batch of products in the catalog.
set -eu
# As PID 1, sh ignores SIGTERM unless trapped, and compose stop would wait out its 10 s grace period.
trap 'exit 0' TERM INT
export PGPASSWORD="$POSTGRES_PASSWORD"
while :; do
  if psql -h 127.0.0.1 -p "$DB_PORT" -U buywhere -d catalog -qAtc \
    "UPDATE products SET scraped_at = now() WHERE id IN (SELECT 1 + floor(random() * 1000000)::int FROM generate_series(1, 100))" >/dev/null 2>/tmp/scraper.err; then
    touch /tmp/heartbeat
  else
    cat /tmp/scraper.err >&2
  fi
  sleep "$SCRAPER_INTERVAL_S" &
  wait $!
done
