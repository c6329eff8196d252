// Plan, then execute: a pure function turns a validated container spec into the list of setup steps
// the shim's container stage runs in order (ffi/rootfs.c run_step). Unit-tested without privileges.
import {
  ABI,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_STRICTATIME,
} from "./abi";

export interface Step {
  op: number;
  flags: number;
  src: string;
  dst: string;
  fstype: string;
  data: string;
}

export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
}

export interface PlanInput {
  network: "none" | "host";
  /** mount the container's cgroup at /sys/fs/cgroup (it has one, and a cgroup namespace) */
  cgroupMount?: boolean;
  /** gid 5 (tty) is mapped, so devpts may give ptys to the tty group as Docker does */
  ttyGroupMapped: boolean;
  /** host files for /etc/hostname, /etc/hosts, /etc/resolv.conf */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  binds: BindMount[];
  /** volume data directories: filled from the image when empty, then bound */
  volumes?: BindMount[];
  tmpfs?: { target: string; options: string; flags?: number }[];
  /** paths hidden and paths made read-only (default: Docker's; --privileged and unmask= change them) */
  masked?: string[];
  readonlyPaths?: string[];
  /** --shm-size in bytes (default 64 MiB, docker's) */
  shmSize?: number;
  /** --device: host nodes (or directories of them) bound at their container paths */
  devices?: { source: string; target: string }[];
  /** --sysctl: paths under /proc/sys and their values, written before /proc/sys turns read-only */
  sysctls?: { key: string; path: string; value: string }[];
}

/** Docker's default masked paths (moby oci/defaults.go). */
export const MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Docker's default read-only paths. */
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** Host device nodes bound into the container's /dev (a user namespace cannot mknod them). */
export const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"];

export const step = (op: number, flags: number, src: string, dst: string, fstype = "", data = ""): Step => ({
  op,
  flags,
  src,
  dst,
  fstype,
  data,
});
const mount = (src: string, dst: string, fstype: string, flags: number, data = "") =>
  step(ABI.HULL_STEP_MOUNT, flags, src, dst, fstype, data);
const bind = (src: string, dst: string, readonly = false) =>
  step(ABI.HULL_STEP_MOUNT, MS_BIND | MS_REC | (readonly ? MS_RDONLY : 0), src, dst);
const symlink = (target: string, dst: string) => step(ABI.HULL_STEP_SYMLINK, 0, target, dst);

/** Namespaces of the container stage (the user and outer mount namespace come first, in the shim). */
export function namespaceFlags(network: PlanInput["network"]): number {
  return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (network === "none" ? CLONE_NEWNET : 0);
}

export function planMounts(p: PlanInput): Step[] {
  const steps: Step[] = [
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC),
    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
    ...DEVICES.map((d) => bind(`/dev/${d}`, `/dev/${d}`)),
    mount(
      "devpts",
      "/dev/pts",
      "devpts",
      MS_NOSUID | MS_NOEXEC,
      `newinstance,ptmxmode=0666,mode=0620${p.ttyGroupMapped ? ",gid=5" : ""}`,
    ),
    symlink("pts/ptmx", "/dev/ptmx"),
    mount(
      "shm",
      "/dev/shm",
      "tmpfs",
      MS_NOSUID | MS_NODEV | MS_NOEXEC,
      `mode=1777,size=${Math.ceil((p.shmSize ?? 67108864) / 1024)}k`,
    ),
    mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC),
    symlink("/proc/self/fd", "/dev/fd"),
    symlink("/proc/self/fd/0", "/dev/stdin"),
    symlink("/proc/self/fd/1", "/dev/stdout"),
    symlink("/proc/self/fd/2", "/dev/stderr"),
    symlink("/proc/kcore", "/dev/core"),
    // sysfs may only be mounted from a network namespace the user namespace owns; with the host's
    // network, show the host's /sys read-only instead (as rootless podman does).
    p.network === "none"
      ? mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
      : bind("/sys", "/sys", true),
    // the container's own cgroup, in its own cgroup namespace (docker's --cgroupns private)
    ...(p.cgroupMount
      ? [mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)]
      : []),
    // after /dev's own mounts, which would hide one at /dev/pts or /dev/shm
    ...(p.devices ?? []).map((d) => bind(d.source, d.target)),
    bind(p.etcFiles.hostname, "/etc/hostname"),
    bind(p.etcFiles.hosts, "/etc/hosts"),
    bind(p.etcFiles.resolvConf, "/etc/resolv.conf"),
    ...p.binds.map((b) => bind(b.source, b.target, b.readonly)),
    ...(p.volumes ?? []).map((b) =>
      step(ABI.HULL_STEP_VOLUME, MS_BIND | MS_REC | (b.readonly ? MS_RDONLY : 0), b.source, b.target),
    ),
    ...(p.tmpfs ?? []).map((t) =>
      mount("tmpfs", t.target, "tmpfs", t.flags ?? MS_NOSUID | MS_NODEV, t.options || "mode=1777"),
    ),
    ...(p.sysctls ?? []).map((c) => step(ABI.HULL_STEP_SYSCTL, 0, c.path, c.key, "", c.value)),
    ...(p.masked ?? MASKED_PATHS).map((d) => step(ABI.HULL_STEP_MASK, 0, "", d)),
    ...(p.readonlyPaths ?? READONLY_PATHS).map((d) => step(ABI.HULL_STEP_READONLY, 0, "", d)),
  ];
  return steps;
}
