#!/usr/bin/env bash
# Installs from Debian what the harness and its staging stack need, starts a Docker engine when none
# answers, and builds the staging base image when it is absent (cached by package list).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v openssl >/dev/null || need+=(openssl)
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v chromium >/dev/null || need+=(chromium)
command -v git >/dev/null || need+=(git)
command -v jq >/dev/null || need+=(jq)
command -v tmux >/dev/null || need+=(tmux)
# sshd serves the test of the engine reached over ssh://; the tests run their own, on loopback.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
# The registry of a multi-node staging swarm (npm run staging:up -- --swarm --nodes N), run on loopback.
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  # No package starts a service of its own here (sshd on every address, for one): policy-rc.d says no.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash .ci/start-docker.sh
bash staging/base/build-base.sh
bash staging/base/build-base.sh app
