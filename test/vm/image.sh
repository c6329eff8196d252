#!/bin/bash
# Builds (or reuses) the guest hull's cgroup v2 tests run in: Debian bookworm with systemd, a pure
# cgroup v2 hierarchy, a user `dev` (uid 1000) with subordinate ids and lingering, and a
# `Delegate=cpu cpuset io memory pids` drop-in for user@.service, as a laptop has. These hosts have
# a hybrid cgroup layout and no systemd, so limits can be tested only there.
#
# Output in $HULL_VM (default /var/tmp/hull-vm): disk.qcow2, vmlinuz, initrd.img, ssh/id_ed25519.
# HULL_VM_EXTRA=pkg,pkg adds Debian packages (give such a guest its own HULL_VM).
# Cached: a second run takes well under a second. Needs root (debootstrap, chroot) and Debian's
# mirror; installs qemu, debootstrap and friends on the host when missing.
set -euo pipefail
VM=${HULL_VM:-/var/tmp/hull-vm}
MIRROR=${HULL_VM_MIRROR:-http://deb.debian.org/debian}
PKGS=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,udev,kmod,linux-image-amd64,initramfs-tools,openssh-server,uidmap,fuse-overlayfs,fuse3,iproute2,procps,ca-certificates,passt
# more packages, for a guest of another use (bench/cgroup-vm: podman, crun, hyperfine), in another HULL_VM
PKGS=$PKGS${HULL_VM_EXTRA:+,$HULL_VM_EXTRA}
say() { printf '[test/vm/image] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "run as root (debootstrap and chroot)"; exit 1; }
mkdir -p "$VM"
exec 9>"$VM/.lock"; flock 9

missing=()
for p in debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils ssh:openssh-client mkfs.ext4:e2fsprogs; do
  command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
done
[ -e /usr/share/seabios/bios-256k.bin ] || missing+=(seabios)
[ -e /usr/lib/ipxe/qemu/efi-virtio.rom ] || missing+=(ipxe-qemu)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# the image's inputs: this script and the key; a change rebuilds it
mkdir -p "$VM/ssh"
[ -s "$VM/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C hull-vm -f "$VM/ssh/id_ed25519"
# readable by the developer who runs the tests (run.sh copies it to a private file): it opens only
# this throwaway guest, on 127.0.0.1, while a test runs
chmod 755 "$VM/ssh"; chmod 644 "$VM/ssh/id_ed25519"
key=$( { sha256sum <"$0"; echo "$PKGS"; cat "$VM/ssh/id_ed25519.pub"; } | sha256sum | cut -c1-16)
if [ "$(cat "$VM/stamp" 2>/dev/null)" = "$key" ] && [ -s "$VM/disk.qcow2" ]; then say "cached in $VM"; exit 0; fi

R=$VM/rootfs
if [ "$(cat "$R/.debootstrap" 2>/dev/null)" != "$PKGS" ]; then
  say "debootstrap bookworm (a few minutes)"
  rm -rf "$R.tmp"; mkdir -p "$VM/debs"
  debootstrap --variant=minbase --cache-dir="$VM/debs" --include="$PKGS" bookworm "$R.tmp" "$MIRROR" >"$VM/debootstrap.log" 2>&1 \
    || { tail -20 "$VM/debootstrap.log" >&2; exit 1; }
  echo "$PKGS" >"$R.tmp/.debootstrap"
  rm -rf "$R"; mv "$R.tmp" "$R"
fi
in_root() { LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$R" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo hull-vm >"$R/etc/hostname"
printf '127.0.0.1 localhost hull-vm\n' >"$R/etc/hosts"
echo '/dev/vda / ext4 rw,relatime 0 1' >"$R/etc/fstab"
# the host directory run.sh shares (9p): hull's binary and the test script
mkdir -p "$R/mnt/host"
cat >"$R/etc/systemd/system/mnt-host.mount" <<'UNIT'
[Unit]
ConditionKernelCommandLine=hull.share
[Mount]
What=hostshare
Where=/mnt/host
Type=9p
Options=trans=virtio,version=9p2000.L,msize=524288,access=any
[Install]
WantedBy=local-fs.target
UNIT
in_root systemctl enable mnt-host.mount >/dev/null 2>&1
mkdir -p "$R/etc/systemd/network"
printf '[Match]\nName=eth0\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
  >"$R/etc/systemd/network/10-eth0.network"
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
in_root systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1
# the user of a laptop: subordinate ids, lingering, and delegation as the issue describes it
in_root id -u dev >/dev/null 2>&1 || in_root useradd -m -u 1000 -U -s /bin/bash dev
in_root usermod -p '*' dev
for f in subuid subgid; do grep -q '^dev:' "$R/etc/$f" 2>/dev/null || echo 'dev:100000:65536' >>"$R/etc/$f"; done
mkdir -p "$R/var/lib/systemd/linger"; : >"$R/var/lib/systemd/linger/dev"
mkdir -p "$R/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >"$R/etc/systemd/system/user@.service.d/delegate.conf"
for h in "$R/home/dev" "$R/root"; do
  mkdir -p "$h/.ssh"; cp "$VM/ssh/id_ed25519.pub" "$h/.ssh/authorized_keys"; chmod 700 "$h/.ssh"; chmod 600 "$h/.ssh/authorized_keys"
done
in_root chown -R dev:dev /home/dev/.ssh
mkdir -p "$R/etc/ssh/sshd_config.d"
printf 'PasswordAuthentication no\nUseDNS no\nPermitRootLogin prohibit-password\n' >"$R/etc/ssh/sshd_config.d/hull.conf"
ls "$R"/etc/ssh/ssh_host_*_key >/dev/null 2>&1 || in_root ssh-keygen -A
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer \
         getty@tty1.service systemd-timesyncd.service; do
  in_root systemctl mask "$u" >/dev/null 2>&1 || true
done
# a small initrd: under software emulation, unpacking a full one takes most of the boot
printf 'virtio_pci\nvirtio_blk\next4\n' >"$R/etc/initramfs-tools/modules"
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$R/etc/initramfs-tools/conf.d/hull.conf"
mount -t proc proc "$R/proc"; trap 'umount "$R/proc" 2>/dev/null || true' EXIT
in_root update-initramfs -u -k all >"$VM/initramfs.log" 2>&1
umount "$R/proc"; trap - EXIT
in_root apt-get clean

kver=$(ls "$R/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
cp "$R/boot/vmlinuz-$kver" "$VM/vmlinuz"; cp "$R/boot/initrd.img-$kver" "$VM/initrd.img"
rm -f "$VM/disk.raw"
mkfs.ext4 -q -F -E root_owner=0:0 -d "$R" "$VM/disk.raw" 4G
qemu-img convert -O qcow2 "$VM/disk.raw" "$VM/disk.qcow2.tmp"; rm -f "$VM/disk.raw"
mv "$VM/disk.qcow2.tmp" "$VM/disk.qcow2"
echo "$key" >"$VM/stamp"
say "ready: $VM/disk.qcow2 (kernel $kver)"
