#!/bin/bash
# Boots the guest test/vm/image.sh built, shares DIR at /mnt/host, runs COMMAND there as `dev` in a
# real login session (logind, the user's systemd, XDG_RUNTIME_DIR), prints what it prints, powers
# the guest off and exits with COMMAND's status (125: the guest did not come up).
#   test/vm/run.sh DIR COMMAND...
# These machines' /dev/kvm is kvm_pvm, which cannot run a stock Debian kernel: qemu's software
# emulation (TCG) is used there, ~25 s from start to a command.
set -uo pipefail
VM=${HULL_VM:-/var/tmp/hull-vm}
SHARE=$(cd "$1" && pwd) || exit 125
shift
say() { printf '[test/vm/run] %s\n' "$*" >&2; }
for f in disk.qcow2 vmlinuz initrd.img ssh/id_ed25519; do
  [ -s "$VM/$f" ] || { say "no $VM/$f: run test/vm/image.sh first"; exit 125; }
done
RUN=$(mktemp -d "${TMPDIR:-/tmp}/hull-vm-run.XXXXXX")
QPID=
finish() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && sleep 1 && kill -9 "$QPID" 2>/dev/null
  rm -rf "$RUN"
}
trap finish EXIT
trap 'exit 130' INT TERM
qemu-img create -q -f qcow2 -b "$VM/disk.qcow2" -F qcow2 "$RUN/disk.qcow2" || exit 125
# ssh wants a key no one else can read
install -m 600 "$VM/ssh/id_ed25519" "$RUN/key" || exit 125
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then accel=(-enable-kvm -cpu host); else accel=(-accel tcg,thread=multi -cpu max); fi
PORT=$(( 20000 + RANDOM % 30000 ))
qemu-system-x86_64 "${accel[@]}" -m 2048 -smp 2 -nographic -no-reboot \
  -kernel "$VM/vmlinuz" -initrd "$VM/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 quiet net.ifnames=0 systemd.unified_cgroup_hierarchy=1 hull.share" \
  -drive "file=$RUN/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=n0,romfile= \
  -virtfs "local,path=$SHARE,mount_tag=hostshare,security_model=none,id=hostshare" \
  -serial "file:$RUN/console.log" -monitor none </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!
ssh_() {
  ssh -i "$RUN/key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 -p "$PORT" "$@"
}
deadline=$(( $(date +%s) + ${HULL_VM_BOOT_TIMEOUT:-300} ))
until ssh_ -n dev@127.0.0.1 'timeout 90 systemctl is-system-running --wait >/dev/null; mountpoint -q /mnt/host' 2>/dev/null; do
  if ! kill -0 "$QPID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
    say "the guest did not come up"; tail -20 "$RUN/console.log" >&2; cat "$RUN/qemu.log" >&2; exit 125
  fi
  sleep 1
done
ssh_ -n dev@127.0.0.1 -- "$(printf '%q ' "$@")"
rc=$?
ssh_ -n root@127.0.0.1 'systemctl poweroff --no-block' >/dev/null 2>&1
for _ in $(seq 60); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
exit $rc
