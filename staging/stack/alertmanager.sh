#!/bin/sh
set -eu
mkdir -p /tmp/alertmanager
cat > /tmp/alertmanager.yml <<CONF
route:
  receiver: launch-ops
  group_wait: 5s
receivers:
  - name: launch-ops
CONF
exec prometheus-alertmanager --config.file=/tmp/alertmanager.yml --storage.path=/tmp/alertmanager \
  --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address=
