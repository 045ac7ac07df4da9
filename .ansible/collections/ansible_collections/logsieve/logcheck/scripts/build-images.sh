#!/usr/bin/env bash
# Build the Debian test images locally (no registry is reachable here):
#   localhost/debian:<suite>           debootstrap --variant=minbase, imported
#   localhost/logsieve-test:<suite>    + python3, systemd as PID 1, rsyslog, cron
# Images are cached: an existing image is not rebuilt unless FORCE=1.
# Usage: scripts/build-images.sh [suite ...]   (default: bookworm trixie)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(bookworm trixie)

# Use the mirror this machine's apt already uses; fall back to debootstrap's default.
mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1 || true)"
[ -n "$mirror" ] || mirror="$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"

for suite in "${suites[@]}"; do
    if [ "${FORCE:-0}" != 1 ] && podman image exists "localhost/logsieve-test:$suite"; then
        echo "image localhost/logsieve-test:$suite is cached"
        continue
    fi
    if [ "${FORCE:-0}" = 1 ] || ! podman image exists "localhost/debian:$suite"; then
        root="$(mktemp -d /var/tmp/logsieve-rootfs.XXXXXX)"
        echo "debootstrap $suite into $root"
        debootstrap --variant=minbase "$suite" "$root" ${mirror:+"$mirror"} >/dev/null
        tar -C "$root" -c . | podman import - "localhost/debian:$suite" >/dev/null
        rm -rf "$root"
    fi
    podman build -q --build-arg "SUITE=$suite" -t "localhost/logsieve-test:$suite" \
        -f "$here/Containerfile" "$here" >/dev/null
    echo "built localhost/logsieve-test:$suite"
done
