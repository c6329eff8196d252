#!/bin/sh
# The recipe for hull's embedded default image: Debian's busybox-static, one layer, owned by root.
# Usage: rootfs/build.sh OUTDIR   -> OUTDIR/layer.tar and OUTDIR/config.json
# The tar is reproducible (sorted, fixed mtime, numeric root ownership) so the layer digest only
# changes when busybox does.
set -eu
out=$1
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "rootfs/build.sh: $busybox missing: apt-get install busybox-static (make fetches it: tools/static-busybox)" >&2; exit 1; }
"$busybox" --list >/dev/null 2>&1 || { echo "rootfs/build.sh: $busybox is not busybox" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && { echo "rootfs/build.sh: $busybox must be static (busybox-static)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
r=$tmp/root
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/root" "$r/home" "$r/tmp" \
  "$r/var/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/run" "$r/mnt"
chmod 1777 "$r/tmp" "$r/var/tmp"
chmod 700 "$r/root"
cp "$busybox" "$r/bin/busybox"
"$busybox" --install -s "$r/bin" 2>/dev/null || true
# --install -s writes absolute links; relative ones resolve the same inside the container and
# never point outside the layer while it is being unpacked.
for d in bin sbin usr/bin usr/sbin; do
  case $d in bin) t=busybox ;; sbin) t=../bin/busybox ;; *) t=../../bin/busybox ;; esac
  for f in "$r/$d"/*; do
    [ -L "$f" ] || continue
    rm "$f"; ln -s "$t" "$f"
  done
done
for applet in $("$busybox" --list); do
  [ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
done
cp "$here/etc/passwd" "$here/etc/group" "$here/etc/os-release" "$r/etc/"
version=$("$busybox" | head -1 | sed -n 's/^BusyBox v\([0-9.]*\).*/\1/p')
mkdir -p "$out"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$r" -cf "$out/layer.tar" .
diff_id=sha256:$(sha256sum "$out/layer.tar" | cut -d' ' -f1)
cat > "$out/config" <<JSON
{
  "architecture": "amd64",
  "os": "linux",
  "created": "1970-01-01T00:00:00Z",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["sh"],
    "Labels": {"org.opencontainers.image.title": "busybox", "org.opencontainers.image.version": "$version"}
  },
  "rootfs": {"type": "layers", "diff_ids": ["$diff_id"]},
  "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "hull rootfs/build.sh (busybox-static $version)"}]
}
JSON
