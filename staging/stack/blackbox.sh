#!/bin/sh
set -eu
cat > /tmp/blackbox.yml <<CONF
modules:
  https_health:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: [200]
      tls_config: { ca_file: /tls/ca.crt }
CONF
exec prometheus-blackbox-exporter --config.file=/tmp/blackbox.yml --web.listen-address="127.0.0.1:$BLACKBOX_PORT"
