#!/bin/bash
# The guest half of bench/cgroup-vm, run as `dev` in a login session: what a memory limit costs
# `hull run`, next to what it costs podman, in one hyperfine run. Progress on stderr; hyperfine's
# JSON on stdout, for the host to report.
set -euo pipefail
# on the guest's disk: the 9p share has no page cache
install -m 755 /mnt/host/hull "$HOME/hull"
H=$HOME/hull
export HULL_ROOT=$HOME/store
"$H" run --rm busybox true >&2
podman import -q /mnt/host/layer.tar localhost/hull-busybox:bench >&2
podman run --rm --network=none localhost/hull-busybox:bench true >&2
img=localhost/hull-busybox:bench
# hull alone in a delegated scope already (as under a user service): the limit without the D-Bus call
scope="systemd-run --user --scope --quiet -p Delegate=yes"
echo "podman $(podman version --format '{{.Client.Version}}'), $(podman info --format '{{.Host.CgroupManager}} {{.Host.OCIRuntime.Name}}'), $(nproc) vCPUs" >&2
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json /tmp/cgroup-bench.json \
  -n "hull" "$H run --rm busybox true" \
  -n "hull --memory 256m" "$H run --rm --memory 256m busybox true" \
  -n "in a scope: hull" "$scope $H run --rm busybox true" \
  -n "in a scope: hull --memory 256m" "$scope $H run --rm --memory 256m busybox true" \
  -n "podman" "podman run --rm --network=none $img true" \
  -n "podman --memory 256m" "podman run --rm --network=none --memory 256m $img true" >&2
cat /tmp/cgroup-bench.json
