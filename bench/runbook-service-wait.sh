#!/usr/bin/env bash
# The runbook's step 3 wait loop as written, for one container: docker inspect every 2 s. Env: CONTAINER.
for i in $(seq 1 30); do
  STATUS=$(docker inspect --format='{{.State.Health.Status}}' "$CONTAINER" 2>/dev/null || echo "unknown")
  [ "$STATUS" = "healthy" ] && echo OK && exit 0
  sleep 2
done
exit 1
