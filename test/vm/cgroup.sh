#!/bin/bash
# Runs in the guest (test/vm/run.sh) as the unprivileged user `dev`: hull's resource limits against
# a real delegated cgroup v2 subtree. One line per check, "ok" or "FAIL"; exit 1 if any failed.
set -u
# on the guest's own disk: the 9p share has no page cache, and every start would read all of hull
install -m 755 /mnt/host/hull "$HOME/hull"
H=$HOME/hull
export HULL_ROOT=$HOME/store
failed=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1${3:+: $3}"; failed=1; fi; }
cg_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }

echo "# $(uname -r), $(stat -fc %T /sys/fs/cgroup), $(id)"
out=$($H run --rm busybox true 2>&1); check "hull runs here" $? "$out"

# the login shell is in session-N.scope, root's: hull asks systemd for a delegated scope
out=$($H run --rm --cgroupns host --memory 64m busybox cat /proc/self/cgroup 2>&1)
case "$out" in */container) r=0 ;; *) r=1 ;; esac
check "a limited container runs in a cgroup of its own, in a scope of hull's" $r "$out"
# docker's default on cgroup v2: a cgroup namespace of its own, its cgroup at /sys/fs/cgroup
out=$($H run --rm --memory 64m busybox sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max' 2>&1)
[ "$out" = "$(printf '0::/\n67108864')" ]; check "--cgroupns private (the default): it sees only its own cgroup" $? "$out"

out=$($H run --name oom --memory 32m --memory-swap 32m busybox sh -c 'a=$(head -c 200000000 /dev/zero | tr "\0" x); echo survived' 2>&1)
rc=$?
[ $rc = 137 ] && [ "${out#*survived}" = "$out" ]; check "--memory: past the limit the container is OOM-killed (137)" $? "rc=$rc $out"
$H inspect oom | grep -q '"OOMKilled": true'; check "inspect says OOMKilled" $? "$($H inspect oom | grep OOMKilled)"
$H ps -a --filter name=oom | grep -q 'Exited (137)'; check "ps shows Exited (137)" $?
$H rm oom >/dev/null 2>&1

out=$($H run --rm --pids-limit 8 busybox sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 3 & done; wait' 2>&1)
case "$out" in *fork*) r=0 ;; *) r=1 ;; esac
check "--pids-limit: forks past the limit fail" $r "$out"

$H run -d --name lim --cpus 0.5 --memory 100m --memory-swap 150m --pids-limit 50 --cpu-shares 512 --memory-reservation 50m busybox sleep 600 >/dev/null 2>&1
pid=$($H inspect lim 2>/dev/null | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p' | head -1)
dir=/sys/fs/cgroup$(cg_of "$pid" 2>/dev/null)
bad=""
while IFS='=' read -r f want; do
  got=$(cat "$dir/$f" 2>/dev/null)
  [ "$got" = "$want" ] || bad="$bad $f=$got (want $want);"
done <<'LIST'
cpu.max=50000 100000
memory.max=104857600
memory.swap.max=52428800
memory.low=52428800
pids.max=50
cpu.weight=20
LIST
case "$dir" in */container) ;; *) bad="$bad not the container's cgroup: $dir" ;; esac
[ -z "$bad" ]; check "the limits are the files runc would write, on the container's first process" $? "$bad"
$H pause lim >/dev/null 2>&1
st=$(cat "$dir/cgroup.events" 2>/dev/null | sed -n 's/^frozen //p')
ps=$($H ps --filter name=lim 2>&1); top=$($H top lim 2>&1)
$H unpause lim >/dev/null 2>&1
[ "$st" = 1 ] && [ "$(sed -n 's/^frozen //p' "$dir/cgroup.events")" = 0 ]; check "pause and unpause use the cgroup freezer" $? "frozen=$st"
case "$ps" in *"(Paused)"*) r=0 ;; *) r=1 ;; esac
case "$top" in *"sleep 600"*) ;; *) r=1 ;; esac
check "while frozen, ps says Paused and top lists its processes" $r "$ps / $top"
out=$($H exec lim cat /proc/self/cgroup 2>&1)
case "$out" in */container) r=0 ;; *) r=1 ;; esac
check "exec runs in the container's cgroup, from a login shell too" $r "$out"
$H update --memory 200m --memory-swap 200m --pids-limit 70 --cpus 1 lim >/dev/null 2>&1
got="$(cat "$dir/memory.max") $(cat "$dir/memory.swap.max") $(cat "$dir/pids.max") $(cat "$dir/cpu.max")"
[ "$got" = "209715200 0 70 100000 100000" ]; check "update changes a running container's limits in place" $? "$got"
out=$($H stats --no-stream --format json lim 2>&1)
case "$out" in *'"PIDs":"1"'*'"Container":"lim"'*) r=0 ;; *) r=1 ;; esac
case "$out" in *"/ 200MiB"*) ;; *) r=1 ;; esac
check "stats reads the container's cgroup: its memory limit and pids" $r "$out"
$H rm -f lim >/dev/null 2>&1
sleep 1
[ ! -d "$dir" ]; check "the container's cgroup goes with it" $? "$dir is still there"

$H run --name again --memory 64m busybox cat /sys/fs/cgroup/memory.max >/dev/null 2>&1
out=$($H start -a again 2>&1)
case "$out" in 67108864) r=0 ;; *) r=1 ;; esac
check "hull start puts a stopped container in its limits again" $r "$out"
$H rm again >/dev/null 2>&1

# stats next to systemd-cgtop's reading of the same cgroup: memory within 4 MiB, the same tasks, CPU
# within 15 points (a busy loop held to half a core; 24 MB in its /dev/shm, which no reclaim drops)
$H run -d --name st --cpus 0.5 busybox sh -c 'head -c 24000000 /dev/zero >/dev/shm/x; while :; do :; done' >/dev/null 2>&1
pid=$($H inspect st 2>/dev/null | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p' | head -1)
cg=$(cg_of "$pid" 2>/dev/null)
for _ in $(seq 50); do [ "$(cat "/sys/fs/cgroup$cg/pids.current" 2>/dev/null)" = 1 ] && break; sleep 0.2; done
sleep 2
ours=$($H stats --no-stream --format json st 2>&1)
theirs=$(systemd-cgtop --raw -b -n 2 -d 1 --depth=0 "$cg" 2>&1 | tail -1)
mem=$(printf '%s' "$ours" | sed -n 's/.*"MemUsage":"\([0-9.]*\)MiB.*/\1/p')
cpu=$(printf '%s' "$ours" | sed -n 's/.*"CPUPerc":"\([0-9]*\).*/\1/p')
pids=$(printf '%s' "$ours" | sed -n 's/.*"PIDs":"\([0-9]*\)".*/\1/p')
read -r _ ctasks ccpu cmem _ <<<"$theirs"
r=$(awk -v m="$mem" -v c="$cpu" -v cm="$cmem" -v cc="$ccpu" -v p="$pids" -v ct="$ctasks" 'BEGIN {
  dm = m * 1048576 - cm; if (dm < 0) dm = -dm; dc = c - cc; if (dc < 0) dc = -dc
  print (m > 20 && dm < 4194304 && dc < 15 && c > 30 && p == ct) ? 0 : 1 }')
check "stats --no-stream agrees with systemd-cgtop (ours: ${mem}MiB ${cpu}% ${pids} pids; cgtop: ${cmem}B ${ccpu}% ${ctasks})" "$r" "$ours / $theirs"
$H rm -f st >/dev/null 2>&1

$H run -d --name io --device-write-bps /dev/vda:1mb --device-read-iops /dev/vda:500 busybox sleep 600 >/dev/null 2>&1
pid=$($H inspect io 2>/dev/null | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p' | head -1)
got=$(cat "/sys/fs/cgroup$(cg_of "$pid" 2>/dev/null)/io.max" 2>/dev/null)
case "$got" in *"wbps=1048576"*"riops=500"*) r=0 ;; *) r=1 ;; esac
check "--device-write-bps and --device-read-iops become the device's io.max line" $r "$got"
$H rm -f io >/dev/null 2>&1

# kill -9 of the hull that runs a limited container: the container goes with it, and so does its scope
$H run --name k9 --memory 64m busybox sleep 300 >/dev/null 2>&1 &
job=$!
pid=""
for _ in $(seq 100); do
  pid=$($H inspect k9 2>/dev/null | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p' | head -1)
  # the container's own pid 1 (inspect gives hull's pid until the command runs): kill hull only then
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = sleep ] && break
  pid=""
  sleep 0.2
done
dir=/sys/fs/cgroup$(cg_of "$pid" 2>/dev/null)
kill -9 "$job"; wait "$job" 2>/dev/null
for _ in $(seq 50); do [ -d "$dir" ] || break; sleep 0.2; done
[ -n "$pid" ] && [ ! -d "$dir" ] && ! kill -0 "$pid" 2>/dev/null; check "kill -9 of hull takes the container and its cgroup with it" $? "pid=$pid dir=$dir"
$H rm -f k9 >/dev/null 2>&1

mkdir -p "$HOME/ctx" && printf 'FROM busybox\nRUN cat /proc/self/cgroup\n' >"$HOME/ctx/Dockerfile"
out=$($H build --no-cache --memory 64m "$HOME/ctx" 2>&1)
case "$out" in *"/container"*) r=0 ;; *) r=1 ;; esac
check "build --memory: RUN steps run in a limited cgroup" $r "$out"
# hull starts again in a scope: a context or a Dockerfile on stdin must still be there for it
out=$(tar -C "$HOME/ctx" -c . | $H build --no-cache --memory 64m - 2>&1)
out2=$($H build --no-cache --memory 64m -f - "$HOME" <"$HOME/ctx/Dockerfile" 2>&1)
case "$out$out2" in *"/container"*"/container"*) r=0 ;; *) r=1 ;; esac
check "build --memory with the context or the Dockerfile on stdin" $r "$out / $out2"

# create with limits, then start: the cgroup, and its namespace, come at the start
$H create --name cr --memory 64m busybox sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max' >/dev/null 2>&1
out=$($H start -a cr 2>&1)
[ "$out" = "$(printf '0::/\n67108864')" ]; check "create --memory, then start: its own cgroup namespace and limits" $? "$out"
$H rm cr >/dev/null 2>&1

# --cgroup-conf: podman's, for the files docker has no flag for
out=$($H run --rm --cgroup-conf memory.high=48m --cgroup-conf pids.max=9 busybox cat /sys/fs/cgroup/memory.high /sys/fs/cgroup/pids.max 2>&1)
[ "$out" = "$(printf '50331648\n9')" ]; check "--cgroup-conf writes the container's cgroup files" $? "$out"

# --cgroup-parent: a slice of the user's; the slice's own limit caps the container
systemctl --user set-property --runtime hulltest.slice MemoryMax=48M >/dev/null 2>&1
out=$($H run --rm --cgroupns host --cgroup-parent hulltest.slice busybox cat /proc/self/cgroup 2>&1)
case "$out" in */hulltest.slice/*/container) r=0 ;; *) r=1 ;; esac
check "--cgroup-parent NAME.slice: the container's scope is in that slice" $r "$out"
$H run --rm --cgroup-parent hulltest.slice busybox sh -c 'a=$(head -c 200000000 /dev/zero | tr "\0" x); echo survived' >/dev/null 2>&1
rc=$?
[ $rc = 137 ]; check "--cgroup-parent: the slice's MemoryMax caps a container with no limit of its own" $? "rc=$rc"

# in a user service with Delegate=yes, hull is alone in a delegated cgroup and uses it as it is
out=$(systemd-run --user --wait --pipe --quiet -p Delegate=yes $H run --rm --memory 64m busybox cat /sys/fs/cgroup/memory.max 2>&1)
[ "$out" = 67108864 ]; check "from a user service with Delegate=yes, as a CI job runs it" $? "$out"

# --cpus 0.5 keeps a busy loop near half a core: cpu.stat's usage over 3 s, within 20 %
$H run -d --name half --cpus 0.5 busybox sh -c 'while :; do :; done' >/dev/null 2>&1
pid=$($H inspect half 2>/dev/null | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p' | head -1)
stat="/sys/fs/cgroup$(cg_of "$pid" 2>/dev/null)/cpu.stat"
a=$(sed -n 's/^usage_usec //p' "$stat"); sleep 3; b=$(sed -n 's/^usage_usec //p' "$stat")
used=$(( (b - a) / 3000 ))   # thousandths of a core
[ "$used" -ge 400 ] && [ "$used" -le 600 ]; check "--cpus 0.5 holds a busy loop to half a core (measured $used/1000)" $?
$H rm -f half >/dev/null 2>&1

# --rm and rm leave no cgroup behind
$H run --rm --memory 64m busybox true >/dev/null 2>&1
$H run --name gone --memory 64m busybox true >/dev/null 2>&1; $H rm gone >/dev/null 2>&1
for _ in $(seq 25); do
  left=$(find /sys/fs/cgroup/user.slice -name container -type d 2>/dev/null)
  [ -z "$left" ] && break
  sleep 0.2
done
[ -z "$left" ]; check "no container cgroup is left after --rm and rm" $? "$left"

# a scope that delegates only memory: asking for a CPU limit names the controller and the fix
out=$(systemd-run --user --scope --quiet -p Delegate=memory $H run --rm --cpus 1 busybox true 2>&1)
rc=$?
case "$out" in *"cpu controller is not delegated"*) r=0 ;; *) r=1 ;; esac
[ $rc = 125 ] && [ $r = 0 ]; check "a controller that is not delegated is named, with the fix" $? "rc=$rc $out"

out=$($H run --rm busybox cat /proc/self/cgroup 2>&1)
case "$out" in */container) r=1 ;; *) r=0 ;; esac
check "without limits, no scope and no cgroup are made" $r "$out"

# hull oci: a bundle's linux.resources are the same files, on the container's first process, in a
# scope of its own that outlives hull oci create
b=$HOME/bundle
rm -rf "$b" && mkdir -p "$b/rootfs"
$H export "$($H create busybox)" | tar -x -C "$b/rootfs"
(cd "$b" && $H oci spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"sleep", "60"/; s/"namespaces": \[/"resources": {"memory": {"limit": 67108864, "swap": 67108864}, "pids": {"limit": 20}, "cpu": {"quota": 50000, "period": 100000}},\n"namespaces": [/' "$b/config.json"
# the container keeps create's stdio: a file, not this script's pipe
$H oci --root "$HOME/oci" create --bundle "$b" lim1 >"$HOME/oci.out" 2>&1 </dev/null
out=$(cat "$HOME/oci.out")
pid=$($H oci --root "$HOME/oci" state lim1 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
dir=/sys/fs/cgroup$(cg_of "$pid" 2>/dev/null)
got=$(cat "$dir/memory.max" "$dir/memory.swap.max" "$dir/pids.max" "$dir/cpu.max" 2>&1 | tr '\n' ' ')
[ "$got" = "67108864 0 20 50000 100000 " ]; check "hull oci: linux.resources in a cgroup of the container's own" $? "$out / $dir: $got"
$H oci --root "$HOME/oci" delete --force lim1 >/dev/null 2>&1
$H oci --root "$HOME/oci" state lim1 >/dev/null 2>&1
[ $? = 1 ]; check "hull oci delete --force: the container is gone" $?

$H unshare rm -rf "$HULL_ROOT"
exit $failed
