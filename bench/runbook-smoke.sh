#!/usr/bin/env bash
# Runbook section 3 as written (curl, python3 -m json.tool, jq), with only the URLs pointed at staging.
# Two changes, both forced: test 6 stops at the first hop instead of following to amazon.com, and test 8
# reads its Authorization header from a file, so the API key never sits in curl's argv.
# Env: API, MCP, CA (staging CA file), AUTH_HEADER_FILE.
set -u
fail=0
run() { "$@" >/dev/null 2>&1 || fail=1; }
run bash -c 'curl -sf --cacert "$CA" "${API}/health" | python3 -m json.tool'
run bash -c 'curl -sf --cacert "$CA" "${API}/health/detailed" | python3 -m json.tool'
run bash -c 'curl -sf --cacert "$CA" "${API}/v1/products?limit=1" | python3 -m json.tool'
run bash -c 'curl -sf --cacert "$CA" "${API}/v1/search?q=laptop&limit=3&currency=USD" | python3 -m json.tool'
run bash -c 'curl -sf --cacert "$CA" "${API}/v1/search?q=iphone&limit=1&currency=USD" | jq "{total, first_product: .products[0].name}"'
run bash -c 'curl -s --cacert "$CA" -o /dev/null -w "%{redirect_url}\n" "${API}/go/B09G9HDHJT"'
run bash -c 'curl -sf "${MCP}/health" | python3 -m json.tool'
run bash -c 'curl -sf --cacert "$CA" "${API}/v1/status" -H @"$AUTH_HEADER_FILE" | python3 -m json.tool'
for i in 1 2 3; do
  run curl -sf --cacert "$CA" -o /dev/null -w "Search latency: %{time_total}s\n" "${API}/v1/search?q=phone&limit=5&currency=USD"
done
host=$(echo "$API" | sed -E 's#https://([^/]+).*#\1#')
run bash -c "echo | openssl s_client -connect $host -CAfile \"$CA\" 2>/dev/null | openssl x509 -noout -dates"
exit $fail
