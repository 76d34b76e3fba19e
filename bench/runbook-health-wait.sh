#!/usr/bin/env bash
# The runbook's step 5 wait loop as written: curl /health every 2 s, up to 60 times. Env: URL, CA.
for i in $(seq 1 60); do
  HTTP=$(curl -sf --cacert "$CA" -o /dev/null -w "%{http_code}" "$URL" 2>/dev/null)
  [ "$HTTP" = "200" ] && echo "healthy after ${i}x2s" && exit 0
  sleep 2
done
exit 1
