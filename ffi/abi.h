/* The contract between hull (TypeScript) and hull-shim (C).
 * src/runtime/abi.ts mirrors every #define below; test/abi.test.ts fails when they disagree.
 * Keep one #define per line, "#define NAME value", so the test can read this file. */
#ifndef HULL_ABI_H
#define HULL_ABI_H

#define HULL_ABI_MAGIC 0x4c4c5548
#define HULL_ABI_VERSION 1

/* Record types in the setup message: [u16 type][u16 0][u32 len][len bytes]. */
#define HULL_REC_ARG 1
#define HULL_REC_ENV 2
#define HULL_REC_CWD 3
#define HULL_REC_UID 4
#define HULL_REC_GID 5
#define HULL_REC_GROUP 6
#define HULL_REC_HOSTNAME 7
#define HULL_REC_NSFLAGS 8
#define HULL_REC_UIDMAP 9
#define HULL_REC_GIDMAP 10
#define HULL_REC_UIDMAP_PROG 11
#define HULL_REC_GIDMAP_PROG 12
#define HULL_REC_ROOTFS 13
#define HULL_REC_OVERLAY 14
#define HULL_REC_FUSE_PROG 15
#define HULL_REC_OVERLAY_MODE 16
#define HULL_REC_CLEANUP 17
#define HULL_REC_FLAGS 18
#define HULL_REC_STEP 19
#define HULL_REC_STATE_FILE 20
#define HULL_REC_RUN_DIR 21
#define HULL_REC_ID 22
#define HULL_REC_TARGET_PID 23
#define HULL_REC_RESTART 24
#define HULL_REC_RESTART_MAX 25
/* the capability bounding set: u64, bit N = capability N (absent: Docker's default set) */
#define HULL_REC_CAPS 26
/* a seccomp program: struct sock_filter[], installed before the ids change (absent: none) */
#define HULL_REC_SECCOMP 27
/* u32: the pid of the hull process that started the shim, which it must not outlive (builds, helpers) */
#define HULL_REC_DIE_WITH 28
/* str: the container's cgroup v2 directory (resource limits): its first process moves in first */
#define HULL_REC_CGROUP 29
/* u32 resource, u64 soft, u64 hard (~0: unlimited): a --ulimit, set before the command runs */
#define HULL_REC_RLIMIT 30
/* u32 (an int32): --oom-score-adj */
#define HULL_REC_OOM_SCORE_ADJ 31
/* str, repeated: the network helper's argv (pasta ... ), to which the shim adds the container's pid;
 * it runs in the foreground as the supervisor's child, writes its pid file (HULL_REC_NET_PIDFILE)
 * once the container's network is up, and the command starts only then */
#define HULL_REC_NET_HELPER 32
/* str: where the helper writes its pid once ready */
#define HULL_REC_NET_PIDFILE 33
/* str: the store's networks directory, where the user networks' namespace holder keeps holder.lock
 * and holder.pid; with it the container is cloned under the holder's user namespace (ffi/netns.c) */
#define HULL_REC_HOLDER_DIR 34
/* str: the holder's maps, host ids as newuidmap takes them (the map programs are the container's) */
#define HULL_REC_HOLDER_UIDMAP 35
#define HULL_REC_HOLDER_GIDMAP 36
/* str: the container's maps in the holder's ids, as /proc/PID/uid_map takes them */
#define HULL_REC_NEST_UIDMAP 37
#define HULL_REC_NEST_GIDMAP 38
/* str, repeated: "BRIDGE GATEWAY/PREFIX VETH IFNAME ADDRESS/PREFIX", one user network to attach to */
#define HULL_REC_NET_ATTACH 39
/* str, repeated: a veth end in the holder's namespace to delete (network disconnect) */
#define HULL_REC_NET_DETACH 40
/* u32: --network container:NAME, that container's pid 1: the container joins its user and network
 * namespaces (and keeps its own mount, pid, uts and ipc namespaces) */
#define HULL_REC_JOIN_PID 41
/* u32 (3): the helper says it is ready by writing to this descriptor (slirp4netns's --ready-fd), not
 * by its pid file; an argument "{pid}" of HULL_REC_NET_HELPER is replaced by the pid (else appended) */
#define HULL_REC_NET_READY_FD 42
/* str: the helper's API socket, and str, repeated: requests sent to it once it is ready, each on a
 * connection of its own (slirp4netns's add_hostfwd for -p); a reply with "error" fails the start */
#define HULL_REC_NET_API 43
#define HULL_REC_NET_API_REQ 44
/* str: the start time (/proc/PID/stat field 22) HULL_REC_JOIN_PID must have: a recycled pid is refused */
#define HULL_REC_JOIN_START 45
/* str: a file with the container's HULL_REC_NET_ATTACH lines as they are now (and "outbound no" when
 * it is on internal networks only), read again before every run, restarts included */
#define HULL_REC_NET_ATTACH_FILE 46
/* str, repeated: the shared namespace's own helper (pasta, "{pid}" for the holder's pid), started once
 * with the NAT that lets the default network's containers out through it (HULL_FLAG_NET_SHARED) */
#define HULL_REC_HOLDER_HELPER 47
/* str: HULL_TRACE=timing: the caller's start, in ms since the epoch; the shim prints its phases from it */
#define HULL_REC_TRACE_ORIGIN 48
/* str, repeated: the health check's prober (hull's own binary: `hull __health ID --root DIR`), run by
 * the container's parent every HULL_REC_HEALTH_INTERVAL ms while the container runs, one at a time */
#define HULL_REC_HEALTH_ARGV 49
/* u32: ms between two health probes */
#define HULL_REC_HEALTH_INTERVAL 50
/* str: `hull attach`'s detach keys as bytes (default ctrl-p ctrl-q: "\x10\x11"); "" for none */
#define HULL_REC_DETACH_KEYS 51
/* str: the store's event journal (src/store/events.ts); the container's "from" as a JSON string; its
 * attributes as JSON members ("image":"busybox","name":"web"): the shim writes die and destroy */
#define HULL_REC_EVENTS_FILE 52
#define HULL_REC_EVENT_FROM 53
#define HULL_REC_EVENT_ATTRS 54
/* str: --log-opt max-size, bytes (default 16 MiB); u32: max-file, the log's files with the current
 * one (default 2: container.log and container.log.1) */
#define HULL_REC_LOG_MAX 55
#define HULL_REC_LOG_FILES 56
/* --domainname: the UTS namespace's NIS domain name */
#define HULL_REC_DOMAINNAME 57
/* str: `hull oci create`: a FIFO in the container's state directory. The container, its setup done,
 * says it is created (a struct hull_error of stage HULL_STAGE_CREATED on its error pipe) and waits for
 * a byte on it (`hull oci start`) before it becomes its command */
#define HULL_REC_START_FIFO 58
/* 5 x u64: OCI's capability sets, bounding, effective, permitted, inheritable, ambient (bit N =
 * capability N); with it the bounding set is the first, and the others are set as given */
#define HULL_REC_CAP_SETS 59
/* str: `hull oci create --console-socket`: with a pty, its master goes to this socket (SCM_RIGHTS),
 * not to a relay of the supervisor's */
#define HULL_REC_CONSOLE_SOCKET 60
/* u32: the command's umask (an OCI bundle's process.user.umask; absent: the caller's) */
#define HULL_REC_UMASK 61
/* str, repeated: "net PATH", "ipc PATH" or "uts PATH": a namespace an OCI bundle names by path,
 * joined before the container's own are made */
#define HULL_REC_JOIN_NS 62
/* str: hull oci --pid-file: where the shim writes the pid of the container (or of the exec'd
 * process), as runc writes it (the number alone), before it returns */
#define HULL_REC_PID_FILE 63
/* u32: an OCI bundle's linux.rootfsPropagation, as mount flags for the container's / after pivot_root */
#define HULL_REC_ROOTFS_PROPAGATION 64
/* an OCI hook: u32 kind (HULL_HOOK_*), u32 timeout (s, 0: none), u32 argc, u32 envc, then the
 * NUL-terminated path, argc args and envc env strings */
#define HULL_REC_HOOK 65
/* str: the state hooks read on stdin, with "{status}" and "{pid}" to fill in */
#define HULL_REC_HOOK_STATE 66
/* str: hull oci --log: where an error this shim prints goes too, as runc's record; with
 * HULL_REC_ERROR_LOG_JSON (u32 1) as a JSON line, else as a logfmt line */
#define HULL_REC_ERROR_LOG 67
#define HULL_REC_ERROR_LOG_JSON 68
/* str, repeated: what brings the container's peers up to date (hull's own binary: `hull __peers
 * --root DIR`), run in the background as the container ends and as a restart starts it again */
#define HULL_REC_PEERS_ARGV 69

/* HULL_REC_HOOK kinds, runtime-spec's, in the order they run */
#define HULL_HOOK_PRESTART 1
#define HULL_HOOK_CREATE_RUNTIME 2
#define HULL_HOOK_CREATE_CONTAINER 3
#define HULL_HOOK_START_CONTAINER 4
#define HULL_HOOK_POSTSTART 5
#define HULL_HOOK_POSTSTOP 6

/* HULL_REC_RESTART values (--restart) */
#define HULL_RESTART_NO 0
#define HULL_RESTART_ON_FAILURE 1
#define HULL_RESTART_ALWAYS 2
#define HULL_RESTART_UNLESS_STOPPED 3

/* HULL_REC_FLAGS bits */
#define HULL_FLAG_TTY 1
#define HULL_FLAG_STDIN 2
#define HULL_FLAG_READONLY 4
#define HULL_FLAG_INIT 8
#define HULL_FLAG_NET_LO 16
#define HULL_FLAG_SETGROUPS 32
#define HULL_FLAG_DETACH 64
#define HULL_FLAG_NO_STDOUT 128
#define HULL_FLAG_NO_STDERR 256
#define HULL_FLAG_NO_NEW_PRIVS 512
/* a kept container in the foreground: its output goes to the caller and to RUN_DIR/container.log */
#define HULL_FLAG_LOG 1024
/* with HULL_REC_CGROUP: a cgroup namespace of the container's own, rooted at its cgroup (docker's
 * --cgroupns private, its default on cgroup v2) */
#define HULL_FLAG_CGROUPNS 2048
/* the default network through the shared namespace (its bridge hull0, NAT, its one pasta) when the
 * holder has that way out; else the container's own helper (HULL_REC_NET_HELPER) as without it */
#define HULL_FLAG_NET_SHARED 4096
/* `hull attach --sig-proxy=false`: a signal to the client ends the attachment, the container goes on */
#define HULL_FLAG_NO_SIG_PROXY 8192
/* --network none: the user namespace nested under the shared holder's (maps written by it, no
 * newuidmap), with a network namespace of the container's own; without a holder to be had, a user
 * namespace of its own as before */
#define HULL_FLAG_HOLDER_USERNS 16384
/* `hull oci create`/`run -d`: no supervisor, and no stage of hull's waits for the container. The
 * first process returns once the container is created (or has become its command); the container,
 * with the caller's stdio, is then the child of the caller's subreaper (conmon, containerd's shim),
 * which reaps it and takes its exit status, as runc's is */
#define HULL_FLAG_ORPHAN 32768
/* no user namespace of the container's own: the caller's (podman runs its runtime as root of a user
 * namespace of its own, and gives bundles without one) */
#define HULL_FLAG_NO_USERNS 65536
/* the maps are written directly, every extent of them, by a caller that is root of the user
 * namespace they map into (hull oci inside podman's): no newuidmap, and setgroups stays allowed */
#define HULL_FLAG_MAPS_PRIVILEGED 131072
/* the container is on user networks as it starts: HULL_REC_PEERS_ARGV runs as it ends (else only
 * when RUN_DIR/peers marks a `network connect` since) */
#define HULL_FLAG_PEERS 262144

/* HULL_REC_OVERLAY_MODE values */
#define HULL_OVERLAY_AUTO 0
#define HULL_OVERLAY_KERNEL 1
#define HULL_OVERLAY_FUSE 2

/* Setup steps run by the container stage in order: [u32 op][u32 mount flags] then four
 * NUL-terminated strings: source, destination (inside the rootfs), fstype, data. */
#define HULL_STEP_MOUNT 1
#define HULL_STEP_MKDIR 2
#define HULL_STEP_SYMLINK 3
#define HULL_STEP_READONLY 4
#define HULL_STEP_MASK 5
/* a bind mount of a volume: when the volume is empty, first fill it from the image at the target */
#define HULL_STEP_VOLUME 6
/* --sysctl: write data to /proc/sys/src (src a path under it, checked by hull; dst its name) */
#define HULL_STEP_SYSCTL 7
/* an OCI mount's propagation (shared, slave, private, unbindable; MS_REC for the r- forms): the
 * flags on the mount at dst, once it is made */
#define HULL_STEP_PROPAGATION 8
/* a mount (as HULL_STEP_MOUNT, podman's tmpfs) that starts with what the root had at dst: podman's
 * tmpcopyup */
#define HULL_STEP_TMPCOPYUP 9

/* Stages named in error reports: struct hull_error below. */
#define HULL_STAGE_PARENT 1
#define HULL_STAGE_USERNS 2
#define HULL_STAGE_CONTAINER 3
#define HULL_STAGE_EXEC 4
/* not an error: the container is created and waits on HULL_REC_START_FIFO */
#define HULL_STAGE_CREATED 5
/* not an error: the container's mounts are made; the runtime's hooks run now, then one byte (its
 * pid, as an int32) on the hooks pipe lets it go on */
#define HULL_STAGE_HOOKS 6

/* One-byte sync messages on the parent <-> userns-stage pipe. */
#define HULL_SYNC_MAPS_DONE 1

/* Exit codes hull itself uses, as Docker does. */
#define HULL_EXIT_SETUP 125
#define HULL_EXIT_CANNOT_INVOKE 126
#define HULL_EXIT_NOT_FOUND 127

#endif
