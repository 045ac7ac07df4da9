#!/usr/bin/env bash
# Install podman and the tools the test bed needs, and configure podman for
# these machines: runc (crun fails with hybrid cgroups) and rlimits no higher
# than the ones we are allowed to set.
set -euo pipefail

need=()
for pkg in podman runc debootstrap uidmap slirp4netns fuse-overlayfs python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}"
fi

conf=/etc/containers/containers.conf
if ! grep -q '^runtime = "runc"' "$conf" 2>/dev/null; then
    mkdir -p /etc/containers
    cat > "$conf" <<'CONF'
# Written by logsieve's scripts/setup-podman.sh
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]

[engine]
runtime = "runc"
CONF
fi
podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null
