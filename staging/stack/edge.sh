#!/bin/sh
# The edge in front of the API, as production's proxy is: TLS at API_PORT with the staging certificate, forwarded
# to the API's plain-HTTP local port. A config of its own, because Debian's default site listens on 0.0.0.0:80.
# SIGHUP (a certificate swapped in by a test) makes nginx read the certificate again. With API_REPLICAS replicas
# (a swarm's, each on API_LOCAL_PORT + slot - 1) it balances across them. None is ever marked down (max_fails=0):
# nginx would otherwise shun every replica for 10 s after a restart that stopped them all (a rollback's step 1),
# and answer 502 while they serve again; a replica that refuses a connection is passed over for the next one.
set -eu
replicas=${API_REPLICAS:-1}
[ "$replicas" -ge 1 ] 2>/dev/null || replicas=1
servers=""
i=0
while [ "$i" -lt "$replicas" ]; do
  servers="$servers    server 127.0.0.1:$((API_LOCAL_PORT + i)) max_fails=0;
"
  i=$((i + 1))
done
dir=/tmp/edge
mkdir -p "$dir"
chown www-data "$dir"
cat > "$dir/nginx.conf" <<CONF
user www-data;
worker_processes 2;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  # Idle connections to the API are kept, and dropped before the API's own 5 s idle timeout closes them: one the
  # API closed as nginx reused it would be a 502 the API never sent.
  upstream api {
$servers    keepalive 64;
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:$API_PORT ssl;
    server_name localhost;
    ssl_certificate /tls/server.crt;
    ssl_certificate_key /tls/server.key;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      # The API's redirects are the runbook's subject (smoke 6): they pass through as the API wrote them.
      proxy_redirect off;
      proxy_read_timeout 120s;
    }
  }
}
CONF
exec nginx -c "$dir/nginx.conf" -g 'daemon off;'
