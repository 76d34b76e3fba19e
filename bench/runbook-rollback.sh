#!/usr/bin/env bash
# Runbook 5.2 steps 1–4 as written, for the staging project. Env: COMPOSE (the compose command, as words),
# PROJECT_DIR, URL, CA.
set -u
cd "$PROJECT_DIR"
$COMPOSE stop api mcp scraper-scheduler >/dev/null 2>&1
source "$PROJECT_DIR/.rollback_state"
docker tag "${PREV_API_IMAGE}" buywhere-api:latest
docker tag "${PREV_MCP_IMAGE}" buywhere-mcp:latest
$COMPOSE up -d api >/dev/null 2>&1
for i in $(seq 1 30); do
  HTTP=$(curl -sf --cacert "$CA" -o /dev/null -w "%{http_code}" "$URL" 2>/dev/null)
  [ "$HTTP" = "200" ] && echo "Rollback API healthy" && exit 0
  sleep 2
done
exit 1
