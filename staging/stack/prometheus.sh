#!/bin/sh
set -eu
mkdir -p /var/lib/buywhere/prometheus
sed -e "s/@API_PORT@/$API_PORT/g" -e "s/@API_LOCAL_PORT@/$API_LOCAL_PORT/g" -e "s/@ALERTMANAGER_PORT@/$ALERTMANAGER_PORT/g" \
    -e "s/@BLACKBOX_PORT@/$BLACKBOX_PORT/g" -e "s/@PROMETHEUS_PORT@/$PROMETHEUS_PORT/g" \
    /stack/prometheus.yml > /tmp/prometheus.yml
cp /stack/alerts.yml /tmp/alerts.yml
exec prometheus --config.file=/tmp/prometheus.yml --storage.tsdb.path=/var/lib/buywhere/prometheus \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.retention.time=2d
