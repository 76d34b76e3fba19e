#!/usr/bin/env bash
# Builds a Debian bookworm base image, once per package list: by default the one every staging service runs on;
# `build-base.sh app` the slim one the API and MCP images start from. Nothing can be pulled here, so the root
# filesystem comes from debootstrap and is `docker import`ed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-base}" in
  base) list="$here/packages.txt" name=buywhere-staging-base ;;
  app) list="$here/app-packages.txt" name=buywhere-staging-app ;;
  *) echo "usage: build-base.sh [base|app]" >&2; exit 2 ;;
esac
hash=$(sha256sum "$list" | cut -c1-12)
image="$name:$hash"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /var/tmp/buywhere-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
include=$(grep -v '^#' "$list" | paste -sd, -)
echo "building $image with debootstrap (about 2 minutes)" >&2
debootstrap --variant=minbase --include="$include" bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  - "$image" >/dev/null
echo "$image"
