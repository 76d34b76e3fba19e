#!/bin/sh
set -eu
mkdir -p /var/lib/buywhere/prometheus
# Every API replica is scraped: a swarm's sit on API_LOCAL_PORT + slot - 1, one per slot up to API_REPLICAS.
replicas=${API_REPLICAS:-1}
[ "$replicas" -ge 1 ] 2>/dev/null || replicas=1
targets=""
i=0
while [ "$i" -lt "$replicas" ]; do
  targets="$targets${targets:+, }\"127.0.0.1:$((API_LOCAL_PORT + i))\""
  i=$((i + 1))
done
sed -e "s/@API_PORT@/$API_PORT/g" -e "s/@API_TARGETS@/$targets/g" -e "s/@ALERTMANAGER_PORT@/$ALERTMANAGER_PORT/g" \
    -e "s/@BLACKBOX_PORT@/$BLACKBOX_PORT/g" -e "s/@PROMETHEUS_PORT@/$PROMETHEUS_PORT/g" \
    /stack/prometheus.yml > /tmp/prometheus.yml
cp /stack/alerts.yml /tmp/alerts.yml
exec prometheus --config.file=/tmp/prometheus.yml --storage.tsdb.path=/var/lib/buywhere/prometheus \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.retention.time=2d
